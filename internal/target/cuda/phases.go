package cuda

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/tensor"
)

// Data-dependent shapes. Most networks resolve every dim from the input
// shapes, and one shape plan covers all steps. Where a dim depends on data
// (a reshape to a shape computed from values, a ConstantOfShape of an
// input, the count of NonZero, NMS' boxes), the plan stops at the first
// step whose output dims do not resolve: the run goes that far, waits for
// the stream, and reads back what the dims need — the small tensors the
// step takes its shape from, or, for a step that runs on the host, its
// whole result. With those known, the rest of the network is resolved
// and planned as the next phase, in an arena of its own (the tensors of
// earlier phases stay where they are). Phases are cached by what was read
// back, so a run that reads the same values again plans nothing. Such a
// run synchronizes once per boundary and cannot be recorded as a CUDA
// graph; networks without data-dependent dims have one phase and run as
// before.

// shapeInputs are the inputs of each layer kind whose values its output
// dims follow (TensorRT's shape tensors): a reshape's dims, a slice's
// start, size, stride and axes, a fill's dims, a resize's sizes or
// scales, a TopK's K, a one-hot's depth. Only those are read back at a
// boundary: reading data would make a phase per value.
var shapeInputs = map[dsl.LayerType][]int{
	dsl.LayerShuffle: {1},
	dsl.LayerSlice:   {1, 2, 3, 5},
	dsl.LayerFill:    {0},
	dsl.LayerResize:  {1},
	dsl.LayerTopK:    {1},
	dsl.LayerOneHot:  {2},
}

// maxReadBack is the largest tensor, in elements, whose values a boundary
// reads back to resolve dims (shape tensors are small).
const maxReadBack = 64

// phaseStop is the first step from sp.start on with an output whose dims
// did not resolve, or the number of steps.
func (x *executable) phaseStop(sp *shapePlan) int {
	for i := sp.start; i < len(x.layers); i++ {
		if x.plan.Steps[i].Kind == kindInRegion {
			continue // its region's host step runs it
		}
		outs := x.hostOutputs(i) // a layer's outputs, or its region's
		for _, t := range outs {
			if _, ok := sp.dims[t]; !ok {
				return i
			}
		}
	}
	return len(x.layers)
}

// planBoundary decides what the run reads back at sp.stop: the step's
// whole result if it runs on the host, else its small inputs whose values
// depend on data.
func (x *executable) planBoundary(sp *shapePlan) error {
	i := sp.stop
	l := x.layers[i]
	for _, t := range x.hostInputs(i) { // a layer's inputs, or its region's
		if _, ok := sp.dims[t]; t != nil && !ok {
			return diag.Errorf(diag.Internal, "%s: input %q has no dims at the phase boundary", dsl.LayerString(l), t.Name())
		}
	}
	if k := x.plan.Steps[i].Kind; k == kindHost || k == kindDeviceRegion {
		// (A device region whose outputs' dims depend on data runs on
		// the host there: its result gives them.)
		e, err := x.hostEngineOf(i, sp.dims)
		if err != nil {
			return err
		}
		sp.hostStep, sp.boundary = true, e
		return nil
	}
	if x.plan.Steps[i].Kind == kindCounted {
		return nil // it counts on the GPU; makePhase plans its metadata
	}
	dep := dependsOnDataGiven(x.net, sp.known)
	for _, j := range shapeInputs[l.Type()] {
		t := l.Input(j)
		if t == nil || !dep[t] || volume(sp.dims[t]) > maxReadBack {
			continue
		}
		if t.Type() == dsl.Int32 || t.Type() == dsl.Int64 || t.Type() == dsl.Float32 {
			sp.fetch = append(sp.fetch, t)
		}
	}
	if len(sp.fetch) == 0 {
		return &diag.Error{Code: diag.UnsupportedNode, Layer: l.Name(), Op: l.Type().String(), Index: l.Index(),
			Msg: "its output dims depend on data through no input small enough to read back; build for --target cpu"}
	}
	return nil
}

// readBack is what a boundary learns of a tensor it read: its dims and,
// for a small integer or float32 tensor, its values.
func readBack(v *tensor.Tensor) knownTensor {
	k := knownTensor{dims: slices.Clone(v.Shape())}
	if volume(k.dims) > maxReadBack {
		return k
	}
	switch v.DType() {
	case dsl.Int32, dsl.Int64:
		k.ints = v.Int64Values()
		if k.ints == nil {
			k.ints = []int64{}
		}
	case dsl.Float32:
		k.floats = slices.Clone(v.Float32s())
		if k.floats == nil {
			k.floats = []float32{}
		}
	}
	return k
}

// boundaryKey names what a boundary read back, in its fixed order.
func boundaryKey(ts []*dsl.Tensor, known map[*dsl.Tensor]knownTensor) string {
	var b strings.Builder
	for _, t := range ts {
		k := known[t]
		fmt.Fprintf(&b, "%v=%v%v;", k.dims, k.ints, k.floats)
	}
	return b.String()
}

// nextPhase crosses sp's boundary: it reads back what the dims need (or
// runs the boundary step on the host), and returns the plan of the next
// phase with its arena grown and the host step's results uploaded.
func (c *cudaContext) nextPhase(sp *shapePlan) (*shapePlan, error) {
	if err := c.stream.Synchronize(); err != nil {
		return nil, err
	}
	x := c.x
	known := maps.Clone(sp.known)
	if known == nil {
		known = map[*dsl.Tensor]knownTensor{}
	}
	l := x.layers[sp.stop]
	start := sp.stop
	var read []*dsl.Tensor
	var results []*tensor.Tensor
	var counts []int64 // what a counted step's count read back
	hostOuts := x.hostOutputs(sp.stop)
	counted := x.countsAt(sp)
	switch {
	case counted:
		var outs []knownTensor
		var err error
		if counts, outs, err = c.countAtBoundary(sp); err != nil {
			return nil, err
		}
		for j, t := range hostOuts {
			read = append(read, t)
			known[t] = outs[j]
		}
		start++
	case sp.hostStep:
		out, err := c.runHost(sp, sp.stop, sp.boundary)
		if err != nil {
			return nil, err
		}
		for j, t := range hostOuts {
			read = append(read, t)
			known[t] = readBack(out[j])
		}
		results = out
		start++
	default:
		for _, t := range sp.fetch {
			v := tensor.New(t.Type(), sp.dims[t]...)
			if err := x.dev.CopyDtoH(v.Bytes(), c.addr(sp, t)); err != nil {
				return nil, err
			}
			read = append(read, t)
			known[t] = readBack(v)
		}
	}
	key := boundaryKey(read, known)
	x.mu.Lock()
	next := sp.next[key]
	x.mu.Unlock()
	if next == nil {
		var pre []*dsl.Tensor
		if sp.hostStep || counted {
			pre = read
		}
		n, err := x.makePhase(sp.shapes, known, start, sp, pre)
		if err != nil {
			return nil, err
		}
		if n.start == start && n.stop == start && !sp.hostStep && !counted {
			n.close()
			return nil, diag.Errorf(diag.Internal, "the dims of %s do not resolve from the values read back", dsl.LayerString(l))
		}
		x.mu.Lock()
		if old := sp.next[key]; old != nil {
			n.close()
			n = old
		} else {
			sp.next[key] = n
		}
		x.mu.Unlock()
		next = n
	}
	if err := c.ensurePhase(next); err != nil {
		return nil, err
	}
	if counted {
		if err := c.fillAfterBoundary(sp, next, counts); err != nil {
			return nil, err
		}
	}
	for j, v := range results {
		if len(v.Bytes()) > 0 {
			if err := x.dev.CopyHtoD(c.addr(next, hostOuts[j]), v.Bytes()); err != nil {
				return nil, err
			}
		}
	}
	return next, nil
}

// arenaOf is the arena of phase p in this context.
func (c *cudaContext) arenaOf(p *shapePlan) *cuda.Buffer {
	if p.depth == 0 {
		return c.arena
	}
	return c.phaseArenas[p.depth-1]
}

// ensurePhase grows the arena of a later phase and the staging memory to
// what it needs.
func (c *cudaContext) ensurePhase(p *shapePlan) error {
	for len(c.phaseArenas) < p.depth {
		c.phaseArenas = append(c.phaseArenas, nil)
	}
	if err := c.ensure(&c.phaseArenas[p.depth-1], p.arenaSize); err != nil {
		return err
	}
	return c.ensureStage(p.stageSize)
}
