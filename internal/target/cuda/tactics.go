package cuda

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/target"
	"github.com/trtc/trtc/internal/timingcache"
)

// Tactics. Every convolution (cuDNN engines, with and without the bias in
// cuDNN's graph) and every matrix multiply (cuBLASLt's heuristic
// candidates) has several implementations whose speeds only the GPU can
// tell apart, so they are timed on the real buffers and the fastest kept:
//
//   - at build time, at each profile's opt shapes (build.go): the choices
//     go into the plan (Choices, in the engine file) and into the timing
//     cache, and a build that finds a layer in the cache times nothing;
//   - at run time, for shapes the build did not see, the first time any
//     context meets them; later contexts reuse the choice.
//
// How many candidates are timed follows the optimization level.

// choice is the measured tactic of one convolution or matrix multiply at
// one shape.
type choice struct {
	Engine    int64  `json:"engine,omitempty"`    // cuDNN engine
	Bias      bool   `json:"bias,omitempty"`      // the cuDNN plan adds the bias itself
	Algo      []byte `json:"algo,omitempty"`      // cuBLASLt algorithm (cuda.Algo.Bytes)
	Workspace int    `json:"workspace,omitempty"` // bytes the cuBLASLt algorithm needs
	TimeNS    int64  `json:"time_ns"`             // one run, as measured
}

// candidates is how many implementations of each kind are timed at an
// optimization level: at 0 and 1 cuBLASLt's and cuDNN's first heuristic
// choice runs untimed.
func candidates(optLevel int) int {
	switch {
	case optLevel <= 1:
		return 1
	case optLevel == 2:
		return 4
	case optLevel == 3:
		return 8
	}
	return 16
}

// choiceKey names a step at one shape plan: the step and its tensors' dims.
func choiceKey(i int, l dsl.Layer, dims map[*dsl.Tensor][]int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:", i)
	for j := 0; j < l.NbInputs(); j++ {
		if t := l.Input(j); t != nil {
			fmt.Fprintf(&b, "%v", dims[t])
		}
	}
	fmt.Fprintf(&b, "->%v", dims[l.Output(0)])
	return b.String()
}

// tactic is a choice as the timing cache spells it.
func (c choice) tactic() string {
	if c.Algo != nil {
		return fmt.Sprintf("cublasLt:algo=%s,workspace=%d", hex.EncodeToString(c.Algo), c.Workspace)
	}
	return fmt.Sprintf("cudnn:engine=%d,bias=%v", c.Engine, c.Bias)
}

// parseTactic reads a tactic written by choice.tactic.
func parseTactic(s string, d time.Duration) (choice, bool) {
	c := choice{TimeNS: d.Nanoseconds()}
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return c, false
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(f, "=")
		fields[k] = v
	}
	var err error
	switch kind {
	case "cublasLt":
		if c.Algo, err = hex.DecodeString(fields["algo"]); err != nil || len(c.Algo) == 0 {
			return c, false
		}
		c.Workspace, err = strconv.Atoi(fields["workspace"])
	case "cudnn":
		if c.Engine, err = strconv.ParseInt(fields["engine"], 10, 64); err == nil {
			c.Bias, err = strconv.ParseBool(fields["bias"])
		}
	default:
		return c, false
	}
	return c, err == nil
}

// knownChoice is the choice for a step at a shape plan from the engine's
// plan, from an earlier timing by this executable or, at build time, from
// the timing cache by the layer's signature.
func (x *executable) knownChoice(key, sig string) (choice, bool) {
	if c, ok := x.plan.Choices[key]; ok {
		return c, true
	}
	x.mu.Lock()
	c, ok := x.measuredChoices[key]
	x.mu.Unlock()
	if ok {
		return c, true
	}
	if x.cache == nil {
		return choice{}, false
	}
	e, ok := x.cache.Lookup(x.cacheDev, sig)
	if !ok {
		return choice{}, false
	}
	c, ok = parseTactic(e.Tactic, e.Time)
	if ok { // the engine keeps what the cache chose
		x.mu.Lock()
		x.measuredChoices[key] = c
		x.mu.Unlock()
	}
	return c, ok
}

// measured records a timed choice for the plan and the timing cache.
func (x *executable) measured(key, sig string, c choice) {
	x.mu.Lock()
	x.measuredChoices[key] = c
	x.mu.Unlock()
	if x.cache != nil {
		x.cache.Record(x.cacheDev, sig, timingcache.Entry{Tactic: c.tactic(), Time: time.Duration(c.TimeNS), Measured: time.Now()})
	}
}

// timeRuns is the time of 3 runs of f on the context's stream after one
// warm-up, or false where a run fails.
func (c *cudaContext) timeRuns(f func() error) (time.Duration, bool) {
	start, err1 := c.x.dev.NewEvent()
	end, err2 := c.x.dev.NewEvent()
	if err1 != nil || err2 != nil {
		return 0, false
	}
	defer start.Close()
	defer end.Close()
	if f() != nil {
		return 0, false
	}
	if start.Record(c.stream) != nil {
		return 0, false
	}
	for r := 0; r < 3; r++ {
		if f() != nil {
			return 0, false
		}
	}
	if end.Record(c.stream) != nil || end.Synchronize() != nil {
		return 0, false
	}
	d, err := cuda.Elapsed(start, end)
	return d / 3, err == nil
}

// matmulAlgo is the matrix multiply's cuBLASLt algorithm for this shape
// plan, picked once: the engine's or the cache's choice, else the fastest
// of the heuristic's candidates timed on the real buffers.
func (c *cudaContext) matmulAlgo(sp *shapePlan, i int, l dsl.Layer, m *matmulPlan) *cuda.Algo {
	c.x.mu.Lock()
	if m.tuned {
		a := m.algo
		c.x.mu.Unlock()
		return a
	}
	c.x.mu.Unlock()
	key := choiceKey(i, l, sp.dims)
	best := -1
	var bestTime time.Duration
	var chosen *cuda.Algo
	if ch, ok := c.x.knownChoice(key, m.sig); ok && ch.Algo != nil && !c.x.isExcluded(key, ch) {
		if a, err := cuda.AlgoFromBytes(ch.Algo, ch.Workspace); err == nil && a.WorkspaceSize <= workspaceBytes {
			chosen = &a
		}
	}
	if chosen == nil && len(m.algos) > 1 {
		for j := range m.algos {
			a := &m.algos[j]
			if c.x.isExcluded(key, algoChoice(a)) {
				continue
			}
			d, ok := c.timeRuns(func() error { return m.runAlgo(c, sp, l, a) })
			if ok && (best < 0 || d < bestTime) {
				best, bestTime = j, d
			}
		}
		if best >= 0 {
			chosen = &m.algos[best]
			c.x.measured(key, m.sig, choice{Algo: chosen.Bytes(), Workspace: chosen.WorkspaceSize, TimeNS: bestTime.Nanoseconds()})
		}
	}
	c.x.mu.Lock()
	defer c.x.mu.Unlock()
	if !m.tuned && chosen != nil {
		m.algo = chosen
	}
	m.tuned = true
	return m.algo
}

// buildSections are the sections a build has written so far, read as an
// engine's: the build loads its own engine to time tactics.
type buildSections struct{ b *target.Build }

func (s buildSections) Section(name string) ([]byte, error) {
	for _, sec := range s.b.Sections {
		if sec.Name == name {
			return sec.Data, nil
		}
	}
	return nil, diag.Errorf(diag.Internal, "the build has no section %q", name)
}
func (s buildSections) Metadata() map[string]string { return s.b.Metadata }
func (s buildSections) Name() string                { return "the engine being built" }

// tuneAtBuild loads the engine being built and runs it once at each
// profile's opt shapes on random float inputs (integer ones zero), which
// times every convolution and matrix multiply (or takes the timing
// cache's choice), and stores the choices in the plan section. A run that
// fails (a host step refusing its inputs, say) stops timing there and is
// a warning: the layers after it are timed when the engine first runs.
func tuneAtBuild(b *target.Build, p *plan, shapes []map[string][]int64) error {
	if candidates(p.OptLevel) == 1 || !slices.ContainsFunc(p.Steps, func(s step) bool { return s.Kind == kindConv || s.Kind == kindMatmul }) {
		return nil
	}
	ex, err := cudaTarget{}.Load(buildSections{b})
	if err != nil {
		return err
	}
	x := ex.(*executable)
	defer x.Close()
	if dev, ok := timingDevice(b.Device); ok {
		x.cache, x.cacheDev = b.TimingCache, dev
	}
	for _, s := range shapes {
		warnings, err := x.tuneShapes(s)
		for _, w := range warnings {
			b.Warnings = append(b.Warnings, "stream-order check: "+w)
		}
		if err != nil {
			b.Warnings = append(b.Warnings, fmt.Sprintf("timing tactics at %v stopped: %v; the rest are timed when the engine first runs", s, err))
		}
	}
	if len(x.measuredChoices) == 0 {
		return nil
	}
	p.Choices, p.Excluded = x.measuredChoices, x.excluded
	pb, err := p.encode()
	if err != nil {
		return err
	}
	for k := range b.Sections {
		if b.Sections[k].Name == sectionPlan {
			b.Sections[k].Data = pb
		}
	}
	return nil
}

// tuneShapes runs the steps once at these shapes on random inputs (the
// rest of the arena zeroed), which times the tactics, then the
// stream-order check (streamorder.go); it returns the check's warnings.
func (x *executable) tuneShapes(shapes map[string][]int64) ([]string, error) {
	tc, err := x.NewContext()
	if err != nil {
		return nil, err
	}
	c := tc.(*cudaContext)
	defer c.Close()
	sp, err := c.prepare(shapes)
	if err != nil {
		return nil, err
	}
	if err := c.stream.MemsetD8(c.arena.Ptr(), 0, c.arena.Size()); err != nil {
		return nil, err
	}
	// Timed on random inputs, not zeros: kernels draw less power, and so
	// run at other clocks, on zeros.
	if err := c.stream.Synchronize(); err != nil {
		return nil, err
	}
	if err := c.putRandomInputs(sp); err != nil {
		return nil, err
	}
	if _, err := c.runSteps(context.Background(), sp); err != nil {
		return nil, err
	}
	if err := c.stream.Synchronize(); err != nil {
		return nil, err
	}
	warnings, err := c.checkStreamOrder(shapes)
	if err != nil { // the tactics are timed; only the check is incomplete
		warnings = append(warnings, fmt.Sprintf("at %v it did not finish: %v", shapeKey(shapes), err))
	}
	return warnings, nil
}

// timingDevice is the timing cache's key for the build device; false
// where a library reports no version (the cache would refuse the entry).
func timingDevice(d target.Device) (timingcache.Device, bool) {
	for _, v := range d.Libraries {
		if v == "" {
			return timingcache.Device{}, false
		}
	}
	return timingcache.Device{Target: "cuda", Arch: d.Arch, Name: d.Name, Libraries: d.Libraries}, d.Arch != ""
}

// tacticOf is the tactic chosen at build time for step i at the first
// shapes (in key order) it was timed at, or "".
func (p *plan) tacticOf(i int) string {
	prefix := strconv.Itoa(i) + ":"
	first := ""
	for k := range p.Choices {
		if strings.HasPrefix(k, prefix) && (first == "" || k < first) {
			first = k
		}
	}
	if first == "" {
		return ""
	}
	return p.Choices[first].tactic()
}
