package cuda

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/target"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/timingcache"
	"github.com/trtc/trtc/tensor"
)

// executable is a loaded CUDA engine: the network (for shapes and host
// steps), the plan, the kernels, the weights on the device. Contexts share
// all of it; each has its own stream and activation arena.
type executable struct {
	dev     *cuda.Context
	ownsDev bool // false for a device region's part (devregion.go)
	net     *dsl.Network
	layers  []dsl.Layer
	plan    *plan
	mods    []*cuda.Module
	fns     map[string]*cuda.Function
	consts  map[*dsl.Tensor]*cuda.Buffer // Constant layers' outputs
	convW   map[dsl.Layer]*cuda.Buffer   // convolution kernels
	convB   map[dsl.Layer]*cuda.Buffer   // convolution biases
	famW    map[dsl.Layer][]*cuda.Buffer // kernel families' weights (kernelFamily.weights); nil for empty ones
	// plugins are the kernel modules of plugin steps, by step.
	plugins map[int]*pluginFunctions
	// reads are the tensors each step reads: a layer's inputs, a
	// pointwise kernel's group inputs (see groupInputs), none for a
	// fused layer.
	reads [][]*dsl.Tensor
	// writes are the tensors each step writes (stepWrites).
	writes [][]*dsl.Tensor
	// faultSlot is the fault slot of each step whose kernel can record a
	// fault (-1 for the others), faultSteps the step of each slot.
	faultSlot  []int
	faultSteps []int
	// faultArg marks the steps whose kernels take a fault slot
	// parameter (takesFaultSlot), decided once at load.
	faultArg []bool
	// shapeLayers are the Shape layers, whose values a graph replay
	// stages again (stageShape).
	shapeLayers []dsl.Layer
	lt          *cuda.BlasLt

	// cache and cacheDev are the build's timing cache, at build time
	// only; measuredChoices are the tactics this executable timed.
	cache           *timingcache.Cache
	cacheDev        timingcache.Device
	measuredChoices map[string]choice
	// regions are the loops and conditionals by host step (region.go),
	// devRegions those that run on the GPU (devregion.go).
	regions    map[int]*region
	devRegions map[int]*deviceRegion
	// excluded are the tactics the stream-order check ruled out, by
	// choice key (streamorder.go).
	excluded map[string][]string

	mu     sync.Mutex
	shapes map[string]*shapePlan
	prof   map[string]time.Duration
	profN  map[string]int
	// profLayer is the time per step (TRTC_CUDA_PROFILE=layers).
	profLayer map[string]time.Duration
}

// shapePlan is everything that depends on the input shapes, made once per
// set of shapes and shared by contexts: tensor dims, the arena layout,
// kernel metadata on the device, matmul descriptors, host-step engines.
type shapePlan struct {
	dims      map[*dsl.Tensor][]int64
	values    map[*dsl.Tensor][]int64     // parameter tensors' values (see hostParams)
	root      map[*dsl.Tensor]*dsl.Tensor // the tensor whose memory an alias uses
	offset    map[*dsl.Tensor]int64       // arena offset of each root tensor
	arenaSize int64
	meta      *cuda.Buffer
	metaOff   map[int]int64 // step -> byte offset in meta
	extraOff  map[int]int64 // step -> second metadata (conv bias)
	// launches are the work items and grids of kernel, copy and gather
	// steps; parts the per-input copies of concatenations.
	launches map[int]launch
	parts    map[int][]launch
	matmuls  map[int]*matmulPlan
	hosts    map[int]*cpueng.Engine
	convCol  int64 // bytes of the largest im2col buffer
	// stageOff places inputs, shape values and outputs in the pinned
	// staging memory of a context; stageSize is its size.
	stageOff  map[*dsl.Tensor]int64
	stageSize int64
	// Phases (phases.go): the plan runs steps [start, stop); where a
	// step's dims depend on data, stop is that step and the plan of the
	// rest is made when the run has read back what it needs (next, by
	// what was read), after this one (prev, depth).
	start, stop int
	prev        *shapePlan
	depth       int
	known       map[*dsl.Tensor]knownTensor
	shapes      map[string][]int64
	next        map[string]*shapePlan
	// At the boundary: fetch are the tensors to read back, or hostStep
	// the step that runs on the host there (its output dims come from
	// its result), with its engine.
	fetch    []*dsl.Tensor
	hostStep bool
	boundary *cpueng.Engine
	// Where the step there is a counted step (counted.go, countsAt): its
	// metadata at countedMeta in meta, and the scratch bytes it needs.
	countedMeta    int64
	countedScratch int64
}

// rootOf is the tensor whose memory t uses (t itself unless an alias).
func (sp *shapePlan) rootOf(t *dsl.Tensor) *dsl.Tensor {
	for {
		r, ok := sp.root[t]
		if !ok {
			return t
		}
		t = r
	}
}

// profileMode is TRTC_CUDA_PROFILE. Any value (profiling) times every
// step with events on the stream (runPhase) and prints the time per step
// kind when the engine closes; it turns CUDA graphs off, so launch gaps
// that a graph would hide show in the steps after them. "layers"
// (profilingLayers) also lists the 40 slowest steps with their shapes
// and, for convolutions, the cuDNN engine; "steps" lists every step.
var profileMode = os.Getenv("TRTC_CUDA_PROFILE")

var (
	profiling       = profileMode != ""
	profilingLayers = profileMode == "layers" || profileMode == "steps"
)

// profiledSteps is how many steps the profile lists.
func profiledSteps() int {
	if profileMode == "steps" {
		return math.MaxInt
	}
	return 40
}

func (x *executable) profile(key string, d time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.prof == nil {
		x.prof = map[string]time.Duration{}
		x.profN = map[string]int{}
	}
	x.prof[key] += d
	x.profN[key]++
}

func (c *cudaContext) path(sp *shapePlan, i int) string {
	if c.x.plan.Steps[i].Kind != kindConv {
		return ""
	}
	if p := c.convPlans[convKey{sp, i}]; p != nil {
		return " (cudnn)"
	}
	return " (im2col)"
}

// profileStep records one step's time under its layer, shapes and engine.
func (c *cudaContext) profileStep(sp *shapePlan, i int, l dsl.Layer, d time.Duration) {
	key := c.x.plan.Steps[i].Kind + " " + l.Type().String() + c.path(sp, i)
	c.x.profile(key, d)
	if !profilingLayers {
		return
	}
	desc := fmt.Sprintf("%4d %s", i, key)
	for j := 0; j < l.NbInputs(); j++ {
		if t := l.Input(j); t != nil {
			desc += fmt.Sprintf(" %s%v", t.Type(), sp.dims[t])
		}
	}
	desc += fmt.Sprintf(" -> %v", sp.dims[l.Output(0)])
	if p := c.convPlans[convKey{sp, i}]; p != nil {
		desc += fmt.Sprintf(" engine %d notes %v ws %d bias fused %v", p.Engine(), p.Notes(), p.WorkspaceSize(), p.Config().Bias)
	}
	c.x.mu.Lock()
	if c.x.profLayer == nil {
		c.x.profLayer = map[string]time.Duration{}
	}
	c.x.profLayer[desc] += d
	c.x.mu.Unlock()
}

func (x *executable) printProfile() {
	keys := make([]string, 0, len(x.prof))
	var total time.Duration
	for k, d := range x.prof {
		keys = append(keys, k)
		total += d
	}
	sort.Slice(keys, func(i, j int) bool { return x.prof[keys[i]] > x.prof[keys[j]] })
	fmt.Fprintf(os.Stderr, "trtc/cuda profile: %v in all\n", total)
	for _, k := range keys {
		fmt.Fprintf(os.Stderr, "  %-40s %6d steps %10v %5.1f%%\n", k, x.profN[k], x.prof[k], 100*float64(x.prof[k])/float64(total))
	}
	steps := make([]string, 0, len(x.profLayer))
	for k := range x.profLayer {
		steps = append(steps, k)
	}
	sort.Slice(steps, func(i, j int) bool { return x.profLayer[steps[i]] > x.profLayer[steps[j]] })
	for _, k := range steps[:min(len(steps), profiledSteps())] {
		fmt.Fprintf(os.Stderr, "  %10v %5.1f%% %s\n", x.profLayer[k], 100*float64(x.profLayer[k])/float64(total), k)
	}
}

func (x *executable) Close() error {
	if profiling && len(x.prof) > 0 {
		x.printProfile()
	}
	for _, m := range []map[*dsl.Tensor]*cuda.Buffer{x.consts} {
		for _, b := range m {
			b.Free()
		}
	}
	for _, m := range []map[dsl.Layer]*cuda.Buffer{x.convW, x.convB} {
		for _, b := range m {
			b.Free()
		}
	}
	for _, bs := range x.famW {
		for _, b := range bs {
			if b != nil {
				b.Free()
			}
		}
	}
	x.mu.Lock()
	for _, sp := range x.shapes {
		sp.close()
	}
	x.mu.Unlock()
	if x.lt != nil {
		x.lt.Close()
	}
	for _, m := range x.mods {
		m.Close()
	}
	for _, dr := range x.devRegions {
		for _, e := range dr.execs {
			e.Close()
		}
	}
	if !x.ownsDev {
		return nil
	}
	return x.dev.Close()
}

func (sp *shapePlan) close() {
	for _, n := range sp.next {
		n.close()
	}
	if sp.meta != nil {
		sp.meta.Free()
	}
	for _, m := range sp.matmuls {
		m.close()
	}
}

// plan returns the shape plan for these input shapes, making it once.
func (x *executable) shapePlan(shapes map[string][]int64) (*shapePlan, error) {
	key := shapeKey(shapes)
	x.mu.Lock()
	defer x.mu.Unlock()
	if sp, ok := x.shapes[key]; ok {
		return sp, nil
	}
	sp, err := x.makeShapePlan(shapes)
	if err != nil {
		return nil, err
	}
	x.shapes[key] = sp
	return sp, nil
}

func (x *executable) makeShapePlan(shapes map[string][]int64) (*shapePlan, error) {
	return x.makePhase(shapes, nil, 0, nil, nil)
}

// makePhase plans the steps from start on, as far as their dims resolve
// with what the run has learnt (known), after phase prev (nil for the
// first); pre are tensors the phase receives from the host before its
// first step (a layer run at the boundary, phases.go).
func (x *executable) makePhase(shapes map[string][]int64, known map[*dsl.Tensor]knownTensor, start int, prev *shapePlan, pre []*dsl.Tensor) (*shapePlan, error) {
	dims, values, _, err := resolveKnown(x.net, shapes, known)
	if err != nil {
		return nil, err
	}
	sp := &shapePlan{dims: dims, values: values, root: map[*dsl.Tensor]*dsl.Tensor{}, offset: map[*dsl.Tensor]int64{},
		metaOff: map[int]int64{}, extraOff: map[int]int64{},
		launches: map[int]launch{}, parts: map[int][]launch{}, matmuls: map[int]*matmulPlan{}, hosts: map[int]*cpueng.Engine{},
		start: start, prev: prev, known: known, shapes: shapes, next: map[string]*shapePlan{}}
	if prev != nil {
		sp.depth = prev.depth + 1
		sp.stageSize = prev.stageSize
		sp.root = maps.Clone(prev.root)
	}
	sp.stop = x.phaseStop(sp)
	if sp.stop < len(x.layers) {
		if err := x.planBoundary(sp); err != nil {
			return nil, err
		}
	}
	// Aliases share their input's memory.
	rootOf := sp.rootOf
	for i := start; i < sp.stop; i++ {
		if x.plan.Steps[i].Kind == kindAlias {
			sp.root[x.layers[i].Output(0)] = rootOf(x.layers[i].Input(0))
		}
	}
	// Liveness: the last step that reads each root; tensors read after
	// this phase stay live to its end.
	last := map[*dsl.Tensor]int{}
	for i := range x.layers {
		for _, t := range x.reads[i] {
			r := rootOf(t)
			if i >= sp.stop {
				last[r] = len(x.layers)
			} else {
				last[r] = i
			}
		}
	}
	for _, t := range x.net.Outputs() {
		last[rootOf(t)] = len(x.layers)
	}
	var a arena
	bytesOf := func(t *dsl.Tensor) int64 { return t.Type().ByteSize(volume(dims[t])) }
	if prev == nil {
		for _, t := range x.net.Inputs() {
			sp.offset[t] = a.alloc(bytesOf(t))
		}
	}
	for _, t := range pre {
		sp.offset[t] = a.alloc(bytesOf(t))
	}
	for i := start; i < sp.stop; i++ {
		for _, t := range x.writes[i] {
			sp.offset[t] = a.alloc(bytesOf(t))
		}
		for _, t := range x.reads[i] {
			r := rootOf(t)
			if _, isConst := x.consts[r]; isConst {
				continue
			}
			if last[r] == i {
				if off, ok := sp.offset[r]; ok {
					a.release(off, bytesOf(r))
					last[r] = -1
				}
			}
		}
	}
	sp.arenaSize = a.size
	sp.stageOff = map[*dsl.Tensor]int64{}
	place := func(t *dsl.Tensor) {
		if _, ok := sp.stageOff[t]; !ok {
			sp.stageOff[t] = sp.stageSize
			sp.stageSize += (bytesOf(t) + arenaAlign - 1) &^ (arenaAlign - 1)
		}
	}
	if prev == nil {
		for _, t := range x.net.Inputs() {
			place(t)
		}
	} else {
		for t, off := range prev.stageOff {
			sp.stageOff[t] = off // the inputs' places, for Execute
		}
		for _, t := range x.net.Outputs() {
			delete(sp.stageOff, t)
		}
	}
	for i := start; i < sp.stop; i++ {
		if x.plan.Steps[i].Kind == kindShape {
			place(x.layers[i].Output(0))
		}
	}
	if sp.stop == len(x.layers) {
		for _, t := range x.net.Outputs() {
			place(t)
		}
	}

	var meta []int64
	put := func(m []int64) int64 {
		off := int64(len(meta)) * 8
		meta = append(meta, m...)
		return off
	}
	for i := start; i < sp.stop; i++ {
		l := x.layers[i]
		s := x.plan.Steps[i]
		switch s.Kind {
		case kindKernel, kindCopy, kindGather, kindConv:
			m, extra, err := x.stepMeta(sp, i, l)
			if err != nil {
				return nil, err
			}
			sp.metaOff[i] = put(m)
			if extra != nil {
				sp.extraOff[i] = put(extra)
			}
			switch {
			case s.Kind == kindConv:
				sp.convCol = max(sp.convCol, convColBytes(l, dims))
			case familyOf(l) != nil:
				// stepMeta planned the family's launch with its metadata.
			default:
				g := launchOf(l, dims)
				if s.Kind == kindCopy {
					if g.wide = widen(m, elementBytes(l.Output(0).Type()), put); g.wide == nil {
						g.tiled = tiledTranspose(m, put)
					}
				}
				sp.launches[i] = g
			}
		case kindConcat:
			for j, m := range concatMetas(l, dims) {
				n := volume(dims[l.Input(j)])
				part := pointwiseLaunch(n)
				part.meta = put(m)
				part.wide = widen(m, elementBytes(l.Output(0).Type()), put)
				sp.parts[i] = append(sp.parts[i], part)
			}
		case kindHost:
			e, err := x.hostEngineOf(i, dims)
			if err != nil {
				return nil, err
			}
			sp.hosts[i] = e
		}
		if s.Kind == kindMatmul || s.Kind == kindConv {
			mp, err := x.newMatmulPlan(s, l, dims)
			if err != nil {
				sp.close()
				return nil, err
			}
			sp.matmuls[i] = mp
		}
	}
	if x.countsAt(sp) {
		if err := x.planCounted(sp, put); err != nil {
			sp.close()
			return nil, err
		}
	}
	if len(meta) > 0 {
		b := make([]byte, 8*len(meta))
		for i, v := range meta {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
		}
		if sp.meta, err = x.dev.Alloc(len(b)); err != nil {
			return nil, err
		}
		if err := x.dev.CopyHtoD(sp.meta.Ptr(), b); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

// cudaContext is one execution context: a stream and an arena.
type cudaContext struct {
	x          *executable
	stream     *cuda.Stream
	ownsStream bool
	arena      *cuda.Buffer
	workspace  *cuda.Buffer
	col        *cuda.Buffer
	// stage is pinned host memory the copies go through, so they are
	// asynchronous on the stream: inputs, then shape values, then outputs.
	stage *cuda.HostBuffer
	// cuDNN, per context (a handle has one stream): its handle, plans per
	// convolution and shape plan, and their workspace.
	dnn       *cuda.Cudnn
	noDNN     bool
	convPlans map[convKey]*cuda.ConvPlan
	convWS    *cuda.Buffer
	pluginWS  *cuda.Buffer
	// bound are the caller's device addresses of the inputs during
	// ExecuteDevice.
	bound map[*dsl.Tensor]cuda.DevicePtr
	// CUDA graphs (graph.go): on or off, the captured graphs, the keys
	// run once (the run before a capture), and the generation of the
	// buffers, which reallocating any of them advances.
	useGraphs bool
	graphs    map[graphKey]*cuda.GraphExec
	ranOnce   map[graphKey]bool
	gen       int
	// faults are the fault slots of the fallible steps, faultHost their
	// pinned copy (fault.go).
	faults    *cuda.Buffer
	faultHost *cuda.HostBuffer
	// phaseArenas hold the tensors of later phases (phases.go), by
	// depth - 1.
	phaseArenas []*cuda.Buffer
	// countScratch is what a counted step's count leaves for its fill
	// (counted.go).
	countScratch *cuda.Buffer
	// regionRuns are the device regions' part contexts and recurrence
	// states, by step (devregion_run.go).
	regionRuns map[int]*regionRun
	// profiledOnce are the shape plans run once under TRTC_CUDA_PROFILE.
	profiledOnce map[*shapePlan]bool
}

const workspaceBytes = 32 << 20

func (x *executable) NewContext() (tc targetContext, err error) {
	s, err := x.dev.NewStream()
	if err != nil {
		return nil, err
	}
	c, err := x.newContextOn(s, true)
	if err != nil {
		s.Close()
		return nil, err
	}
	return c, nil
}

// newContextOn makes a context that runs on stream s; owned says whether
// it closes s (a device region's parts run on their parent's stream).
func (x *executable) newContextOn(s *cuda.Stream, owned bool) (*cudaContext, error) {
	ws, err := x.dev.Alloc(workspaceBytes)
	if err != nil {
		return nil, err
	}
	c := &cudaContext{x: x, stream: s, ownsStream: owned, workspace: ws, convPlans: map[convKey]*cuda.ConvPlan{},
		graphs: map[graphKey]*cuda.GraphExec{}, ranOnce: map[graphKey]bool{}, regionRuns: map[int]*regionRun{}}
	c.useGraphs, _ = x.capturable()
	if err := c.allocFaults(); err != nil {
		c.ownsStream = false
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *cudaContext) Close() error {
	c.dropGraphs()
	for _, r := range c.regionRuns {
		r.close()
	}
	for _, p := range c.convPlans {
		if p != nil {
			p.Close()
		}
	}
	if c.dnn != nil {
		c.dnn.Close()
	}
	if c.faultHost != nil {
		c.faultHost.Free()
	}
	for _, b := range append([]*cuda.Buffer{c.arena, c.workspace, c.col, c.convWS, c.pluginWS, c.faults, c.countScratch}, c.phaseArenas...) {
		if b != nil {
			b.Free()
		}
	}
	if c.stage != nil {
		c.stage.Free()
	}
	if !c.ownsStream {
		return nil
	}
	return c.stream.Close()
}

// ensure grows a buffer to at least n bytes.
func (c *cudaContext) ensure(b **cuda.Buffer, n int64) error {
	if *b != nil && int64((*b).Size()) >= n {
		return nil
	}
	if *b != nil {
		c.buffersChanged()
		(*b).Free()
		*b = nil
	}
	nb, err := c.x.dev.Alloc(int(max(n, arenaAlign)))
	if err != nil {
		return err
	}
	*b = nb
	return nil
}

// ensureStage grows the pinned staging memory to n bytes.
func (c *cudaContext) ensureStage(n int64) error {
	if c.stage != nil && int64(len(c.stage.Bytes())) >= n {
		return nil
	}
	if c.stage != nil {
		c.buffersChanged()
		c.stage.Free()
		c.stage = nil
	}
	h, err := c.x.dev.AllocHost(int(max(n, arenaAlign)))
	if err != nil {
		return err
	}
	c.stage = h
	return nil
}

// prepare returns the shape plan for these input shapes, with the arena
// and the pinned staging grown to it.
func (c *cudaContext) prepare(shapes map[string][]int64) (*shapePlan, error) {
	sp, err := c.x.shapePlan(shapes)
	if err != nil {
		return nil, err
	}
	if err := c.ensure(&c.arena, sp.arenaSize); err != nil {
		return nil, err
	}
	return sp, c.ensureStage(sp.stageSize)
}

// runSteps runs every step of the plan on the context's stream, phase
// after phase (phases.go), and returns the last phase's plan, which holds
// every tensor's dims and place.
func (c *cudaContext) runSteps(ctx context.Context, sp *shapePlan) (*shapePlan, error) {
	for {
		if err := c.runPhase(ctx, sp); err != nil {
			return nil, err
		}
		if sp.stop == len(c.x.layers) {
			return sp, nil
		}
		next, err := c.nextPhase(sp)
		if err != nil {
			return nil, fmt.Errorf("%s on the CUDA target, where its dims depend on data: %w", dsl.LayerString(c.x.layers[sp.stop]), err)
		}
		sp = next
	}
}

// runPhase runs the steps of one phase. Under TRTC_CUDA_PROFILE it
// records an event after each step that launches work and waits once at
// the end, so each step's time is the device's time since the event
// before it, with launches queued ahead as in an unprofiled run.
func (c *cudaContext) runPhase(ctx context.Context, sp *shapePlan) error {
	var marks stepEvents
	if profiling {
		defer marks.close()
		if err := marks.record(c, -1); err != nil {
			return err
		}
	}
	for i := sp.start; i < sp.stop; i++ {
		l := c.x.layers[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.run(ctx, sp, i, l); err != nil {
			return fmt.Errorf("%s on the CUDA target: %w", dsl.LayerString(l), err)
		}
		if profiling && launchesWork(c.x.plan.Steps[i].Kind) {
			if err := marks.record(c, i); err != nil {
				return err
			}
		}
	}
	if profiling {
		return c.profilePhase(sp, marks)
	}
	return nil
}

// launchesWork reports whether a step of kind puts work on the stream
// (fused, alias and constant steps do not).
func launchesWork(kind string) bool {
	switch kind {
	case kindFused, kindAlias, kindConstant, kindInRegion:
		return false
	}
	return true
}

// stepEvents are the events recorded after the steps of a profiled
// phase, with the step each follows (-1 for the phase's start).
type stepEvents struct {
	events []*cuda.Event
	steps  []int
}

func (m *stepEvents) record(c *cudaContext, step int) error {
	e, err := c.x.dev.NewEvent()
	if err != nil {
		return err
	}
	m.events, m.steps = append(m.events, e), append(m.steps, step)
	return e.Record(c.stream)
}

func (m *stepEvents) close() {
	for _, e := range m.events {
		e.Close()
	}
	m.events, m.steps = nil, nil
}

// profilePhase waits for a profiled phase and records each step's time.
// A phase's first run on a context is not recorded: it builds cuDNN
// plans and times tactics.
func (c *cudaContext) profilePhase(sp *shapePlan, marks stepEvents) error {
	if err := marks.events[len(marks.events)-1].Synchronize(); err != nil {
		return err
	}
	if c.profiledOnce == nil {
		c.profiledOnce = map[*shapePlan]bool{}
	}
	if !c.profiledOnce[sp] {
		c.profiledOnce[sp] = true
		return nil
	}
	for k := 1; k < len(marks.events); k++ {
		d, err := cuda.Elapsed(marks.events[k-1], marks.events[k])
		if err != nil {
			return err
		}
		i := marks.steps[k]
		c.profileStep(sp, i, c.x.layers[i], d)
	}
	return nil
}

// ExecuteDevice runs on inputs in device memory, read in place (the
// arena's input slots are not used), and copies each output from the
// arena into the caller's buffer on the device.
func (c *cudaContext) ExecuteDevice(ctx context.Context, inputs map[string]target.DeviceTensor, outputs map[string]target.DeviceBuffer) (map[string][]int64, error) {
	shapes := map[string][]int64{}
	for name, v := range inputs {
		shapes[name] = v.Shape
	}
	sp, err := c.prepare(shapes)
	if err != nil {
		return nil, err
	}
	c.bound = map[*dsl.Tensor]cuda.DevicePtr{}
	defer func() { c.bound = nil }()
	for _, in := range c.x.net.Inputs() {
		c.bound[in] = cuda.DevicePtr(inputs[in.Name()].Ptr)
	}
	sp, err = c.compute(ctx, sp)
	if err != nil {
		return nil, err
	}
	out := map[string][]int64{}
	for _, t := range c.x.net.Outputs() {
		n := t.Type().ByteSize(volume(sp.dims[t]))
		b := outputs[t.Name()]
		if b.Bytes < n {
			return nil, diag.Errorf(diag.InvalidArgument, "the device buffer for output %q holds %d bytes; its shape %v needs %d", t.Name(), b.Bytes, sp.dims[t], n)
		}
		if n > 0 {
			if err := c.stream.CopyDtoD(cuda.DevicePtr(b.Ptr), c.addr(sp, t), int(n)); err != nil {
				return nil, err
			}
		}
		out[t.Name()] = append([]int64(nil), sp.dims[t]...)
	}
	if err := c.fetchFaults(); err != nil {
		return nil, err
	}
	if err := c.stream.Synchronize(); err != nil {
		return nil, err
	}
	return out, c.checkFaults(sp)
}

// addr is the device address of t in this context.
func (c *cudaContext) addr(sp *shapePlan, t *dsl.Tensor) cuda.DevicePtr {
	t = sp.rootOf(t)
	if b, ok := c.x.consts[t]; ok {
		return b.Ptr()
	}
	if p, ok := c.bound[t]; ok {
		return p
	}
	for p := sp; p != nil; p = p.prev {
		if off, ok := p.offset[t]; ok {
			return c.arenaOf(p).Ptr().Add(int(off))
		}
	}
	return c.arena.Ptr() // a tensor no step writes (a folded cast's)
}

func (c *cudaContext) Execute(ctx context.Context, inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	shapes := map[string][]int64{}
	for _, in := range c.x.net.Inputs() {
		v := inputs[in.Name()]
		if v == nil {
			return nil, diag.Errorf(diag.InvalidArgument, "input %q is missing", in.Name())
		}
		shapes[in.Name()] = v.Shape()
	}
	sp, err := c.prepare(shapes)
	if err != nil {
		return nil, err
	}
	stage := c.stage.Bytes()
	for _, in := range c.x.net.Inputs() {
		off := sp.stageOff[in]
		b := inputs[in.Name()].Bytes()
		copy(stage[off:], b)
		if err := c.stream.CopyHtoD(c.addr(sp, in), stage[off:off+int64(len(b))]); err != nil {
			return nil, err
		}
	}
	sp, err = c.compute(ctx, sp)
	if err != nil {
		return nil, err
	}
	stage = c.stage.Bytes() // a later phase may have grown it (ensurePhase)
	out := map[string]*tensor.Tensor{}
	for _, t := range c.x.net.Outputs() {
		v := tensor.New(t.Type(), sp.dims[t]...)
		off := sp.stageOff[t]
		if err := c.stream.CopyDtoH(stage[off:off+int64(len(v.Bytes()))], c.addr(sp, t)); err != nil {
			return nil, err
		}
		out[t.Name()] = v
	}
	if err := c.fetchFaults(); err != nil {
		return nil, err
	}
	if err := c.stream.Synchronize(); err != nil {
		return nil, err
	}
	if err := c.checkFaults(sp); err != nil {
		return nil, err
	}
	for _, t := range c.x.net.Outputs() {
		v := out[t.Name()]
		copy(v.Bytes(), stage[sp.stageOff[t]:])
	}
	return out, nil
}

// grid is the launch size of a grid-stride kernel over n elements.
func grid(n int64) cuda.Dim3 {
	g := (n + 255) / 256
	return cuda.Dim3{X: int(max(1, min(g, 65535*4)))}
}

var block256 = cuda.Dim3{X: 256}

// widen plans the 16-byte form of a copy with metadata m (copyvec.go),
// or nil.
func widen(m []int64, elem int64, put func([]int64) int64) *launch {
	wm, n, ok := widenCopy(m, elem)
	if !ok {
		return nil
	}
	return &launch{meta: put(wm), n: n, grid: grid(n)}
}

// elementBytes is the element size the copy kernels move (copyName).
func elementBytes(dt dsl.DataType) int64 { return int64(max(dt.Bits()/8, 1)) }
