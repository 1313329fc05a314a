package compiler

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strconv"
	"time"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/engine/enginepb"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/passes"
	"github.com/trtc/trtc/internal/passes/autocast"
	"github.com/trtc/trtc/internal/target"
	"github.com/trtc/trtc/internal/timingcache"
)

// Build compiles net into an engine plan for cfg's target. net is not
// modified. Every problem found in a phase (network, configuration,
// profiles) is reported at once; a panic in a pass is recovered into an
// internal error naming the pass.
func Build(net *dsl.Network, cfg Config) (plan *engine.Plan, err error) {
	if net == nil {
		return nil, diag.Errorf(diag.InvalidArgument, "compiler.Build with a nil network")
	}
	defer func() {
		if v := recover(); v != nil {
			plan, err = nil, diag.Errorf(diag.Internal, "internal error while building network %q: %v\n%s", net.Name(), v, debug.Stack())
		}
	}()
	progress := func(p Progress) {
		if cfg.Progress != nil {
			cfg.Progress(p)
		}
	}
	progress(Progress{Phase: "check", Total: len(passes.Names())})
	if err := net.Err(); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := checkProfiles(net, cfg.Profiles); err != nil {
		return nil, err
	}
	cands, passedOver, err := resolveTargets(cfg.Target)
	if err != nil {
		return nil, err
	}

	opts := ir.Options{Compute: cfg.Precision.computeType(), TF32: cfg.Precision == TF32, OptLevel: cfg.OptLevel}
	if len(cfg.LayerPrecisions) > 0 {
		opts.LayerPrecisions = map[string]dsl.DataType{}
		for name, p := range cfg.LayerPrecisions {
			opts.LayerPrecisions[name] = p.computeType()
		}
	}
	work, err := specialize(net, cfg.Profiles)
	if err != nil {
		return nil, err
	}
	done := 0
	g, reports, err := passes.Run(ir.New(work), passes.Config{Options: opts, Verify: cfg.Verify, Progress: func(r passes.Report) {
		done++
		progress(Progress{Phase: "passes", Pass: r.Pass, Done: done, Total: len(passes.Names())})
	}})
	if err != nil {
		return nil, err
	}

	cache := timingcache.New()
	if cfg.TimingCachePath != "" {
		if cache, err = timingcache.Load(cfg.TimingCachePath); err != nil {
			return nil, err
		}
	}
	progress(Progress{Phase: "lower", Done: done, Total: len(passes.Names())})
	// With target auto, a target that cannot run some layer of this
	// network (diag.UnsupportedNode) gives way to the next one.
	var t target.Target
	var dev target.Device
	var b *target.Build
	start := time.Now()
	for i, c := range cands {
		t, dev = c.t, c.dev
		b = &target.Build{Options: opts, Profiles: cfg.Profiles, Device: dev, WorkspaceLimit: cfg.WorkspaceLimit, TimingCache: cache}
		err = t.Lower(g, b)
		if err == nil {
			break
		}
		if i == len(cands)-1 || !errors.Is(err, diag.UnsupportedNode) {
			return nil, err
		}
		passedOver = append(passedOver, fmt.Sprintf("%s: %v", t.Name(), err))
	}
	lowerTime := time.Since(start)
	if cfg.TimingCachePath != "" {
		if err := cache.Save(cfg.TimingCachePath); err != nil {
			return nil, err
		}
	}
	hits, misses := cache.Stats()
	if b.MemorySize == 0 {
		b.MemorySize = activationBytes(g.Net, cfg.Profiles)
	}

	m := &enginepb.Manifest{
		TrtcVersion:     Version(),
		Target:          t.Name(),
		DeviceArch:      dev.Arch,
		LibraryVersions: dev.Libraries,
		NetworkName:     net.Name(),
		Inputs:          tensorDescs(net.Inputs()),
		Outputs:         tensorDescs(net.Outputs()),
		Profiles:        engine.ProfileMessages(cfg.Profiles),
		Metadata: map[string]string{"build.lower_ns": strconv.FormatInt(lowerTime.Nanoseconds(), 10), "build.device": dev.Name,
			"build.timing_cache": fmt.Sprintf("%d hits, %d misses, %d entries", hits, misses, cache.Len())},
		DeviceMemorySize: b.MemorySize,
		Build:            report(net, g, cfg, reports, b, passedOver),
	}
	for k, v := range b.Metadata {
		m.Metadata[k] = v
	}
	plan = engine.NewPlan(m)
	for _, s := range b.Sections {
		plan.AddSection(s.Name, s.Kind, s.Data)
	}
	progress(Progress{Phase: "write", Done: done, Total: len(passes.Names())})
	return plan, nil
}

// report is the build report stored in the manifest.
func report(src *dsl.Network, g *ir.Graph, cfg Config, reports []passes.Report, b *target.Build, passedOver []string) *enginepb.BuildReport {
	r := &enginepb.BuildReport{
		Precision:    cfg.Precision.String(),
		OptLevel:     int32(cfg.OptLevel),
		LayersBefore: int32(src.NbLayers()),
		Source:       cfg.Source,
		Warnings:     append([]string{}, b.Warnings...),
	}
	for _, why := range passedOver {
		r.Warnings = append(r.Warnings, "target auto passed over "+why)
	}
	fusionOf := map[dsl.Layer]int{}
	for i, f := range g.Fusions {
		r.Fusions = append(r.Fusions, &enginepb.FusionInfo{Kind: f.Kind.String(), Layers: f.Names()})
		for _, l := range f.Layers {
			fusionOf[l] = i
		}
	}
	for _, l := range g.Net.TopoLayers() {
		li := &enginepb.LayerInfo{Name: l.Name(), Kind: l.Type().String(), Fusion: -1, Tactic: b.Tactics[l.Name()]}
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil {
				li.Inputs = append(li.Inputs, tensorDesc(t))
			}
		}
		for i := 0; i < l.NbOutputs(); i++ {
			li.Outputs = append(li.Outputs, tensorDesc(l.Output(i)))
		}
		if d, ok := g.Precisions[l.Name()]; ok {
			li.Precision, li.PrecisionReason = PrecisionName(d.Type), d.Reason
		}
		if fi, ok := fusionOf[l]; ok {
			li.Fusion = int32(fi)
		}
		r.Layers = append(r.Layers, li)
	}
	for _, p := range reports {
		r.Passes = append(r.Passes, &enginepb.PassInfo{Name: p.Pass, LayersBefore: int32(p.LayersBefore), LayersAfter: int32(p.LayersAfter),
			DurationNs: p.Duration.Nanoseconds(), Skipped: p.Skipped})
	}
	return r
}

// PrecisionName is the short name of a type as the build report writes
// it: fp32, fp16, bf16, fp8, int8.
func PrecisionName(dt dsl.DataType) string { return autocast.DescribePrecision(dt) }

func tensorDescs(ts []*dsl.Tensor) []*enginepb.TensorDesc {
	out := make([]*enginepb.TensorDesc, len(ts))
	for i, t := range ts {
		out[i] = tensorDesc(t)
	}
	return out
}

func tensorDesc(t *dsl.Tensor) *enginepb.TensorDesc {
	return &enginepb.TensorDesc{Name: t.Name(), Dtype: int32(t.Type()), Dims: append([]int64{}, t.Dims()...)}
}

func sortRanges(rs []ShapeRange) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Input < rs[j].Input })
}

// Version is the trtc version recorded in engines: the module version, or
// the VCS revision for a development build.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return fmt.Sprintf("devel-%s%s", rev, dirty)
	}
	if v == "" {
		return "(devel)"
	}
	return v
}
