package cuda

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// knownTensor is what a run has learnt of a tensor whose dims or values
// depend on data (phases.go): its dims and, for a small tensor read back
// to plan the rest of the network, its values.
type knownTensor struct {
	dims   []int64
	ints   []int64   // values of an integer tensor, when read back
	floats []float32 // values of a float tensor, when read back
}

// resolveKnown returns the concrete dims of every tensor of net it can
// resolve when its inputs have the given shapes, and the values of the
// parameter tensors the CUDA steps read on the host (hostParams). The
// network is copied with static input dims and inferred again, so shape
// arithmetic the DSL can follow becomes static. Shape tensors it cannot
// follow (an exporter's Expand or Pad computing a shape through layers
// that do not propagate values) are evaluated on the CPU engine from the
// input dims alone, as TensorRT evaluates shape tensors on the host, and
// the copy is inferred again with their values. What a run learnt so far
// (known, phases.go) stands in the copy: tensors with known values as
// constants, tensors with known dims only as inputs of those dims. The
// first tensor, in network order, whose dims do not resolve is returned
// too (nil when all do): its dims depend on data.
func resolveKnown(net *dsl.Network, shapes map[string][]int64, known map[*dsl.Tensor]knownTensor) (map[*dsl.Tensor][]int64, map[*dsl.Tensor][]int64, *dsl.Tensor, error) {
	r, _, err := staticCopyKnown(net, shapes, nil, known)
	if err != nil {
		return nil, nil, nil, err
	}
	// Each round evaluates the shape tensors whose inputs the previous
	// round made static (a shape taken of a sliced tensor needs the
	// slice's bounds first).
	vals := map[*dsl.Tensor][]int64{}
	for round := 0; round < 16 && firstDynamic(net, r) != nil; round++ {
		found := 0
		for t, v := range evalShapeTensors(net, r, shapes, known) {
			if _, ok := vals[t]; !ok {
				vals[t] = v
				found++
			}
		}
		if found == 0 {
			break
		}
		if r, _, err = staticCopyKnown(net, shapes, vals, known); err != nil {
			return nil, nil, nil, err
		}
	}
	dims := map[*dsl.Tensor][]int64{}
	var dynamic *dsl.Tensor
	for _, t := range net.Tensors() {
		c := r.Map(t)
		if c == nil {
			continue
		}
		d := c.Dims()
		if !d.IsStatic() {
			if dynamic == nil {
				dynamic = t
			}
			continue
		}
		dims[t] = []int64(d)
	}
	values := map[*dsl.Tensor][]int64{}
	params := hostParams(net)
	var missing []*dsl.Tensor
	for _, t := range params {
		if k, ok := known[t]; ok && k.ints != nil {
			values[t] = k.ints
		} else if v, ok := vals[t]; ok {
			values[t] = v
		} else if c := r.Map(t); c != nil {
			if v, ok := c.KnownValues(); ok {
				values[t] = v
				continue
			}
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		ev := evalShapeTensors(net, r, shapes, known)
		for _, t := range missing {
			if v, ok := ev[t]; ok {
				values[t] = v
			}
		}
	}
	return dims, values, dynamic, nil
}

// hostParams are the parameter tensors of net that CUDA steps need the
// values of when they plan a launch: the tensor inputs of slices that run
// as copies and the parameters kernel families name.
func hostParams(net *dsl.Network) []*dsl.Tensor {
	var ts []*dsl.Tensor
	for _, l := range net.TopoLayers() {
		if f := familyOf(l); f != nil {
			for _, i := range f.params {
				if t := l.Input(i); t != nil {
					ts = append(ts, t)
				}
			}
		}
		if sl, ok := l.(*dsl.SliceLayer); ok {
			for _, i := range sliceParamInputs {
				if t := sl.Input(i); t != nil {
					ts = append(ts, t)
				}
			}
		}
	}
	return ts
}

// sliceParamInputs are the inputs of a slice that give start, size,
// stride and axes.
var sliceParamInputs = []int{1, 2, 3, 5}

// staticCopyKnown copies net with static input dims; the producers of
// the tensors in vals become Constants holding those values, and tensors
// a run has learnt (known) stand for themselves: constants of their values, or inputs of
// their dims (placeholders, named apart) where only the dims are known.
func staticCopyKnown(net *dsl.Network, shapes map[string][]int64, vals map[*dsl.Tensor][]int64, known map[*dsl.Tensor]knownTensor) (*ir.Rebuilder, *dsl.Network, error) {
	r := ir.NewRebuilder(net)
	shapes = maps.Clone(shapes)
	stand := func(t *dsl.Tensor) bool {
		k, ok := known[t]
		if !ok {
			return false
		}
		switch {
		case k.ints != nil:
			r.Alias(t, intConstant(r.Dst, t.Type(), dsl.Dims(k.dims), k.ints))
		case k.floats != nil && t.Type() == dsl.Float32:
			r.Alias(t, r.Dst.AddConstant(dsl.Dims(k.dims), dsl.Float32Weights(k.floats...)).Output(0))
		default:
			name := fmt.Sprintf("trtc_known_%d", len(shapes))
			shapes[name] = k.dims
			r.Alias(t, r.Dst.AddInput(name, t.Type(), dsl.Dims(k.dims)))
		}
		return true
	}
	for _, t := range net.Inputs() {
		if k, ok := known[t]; ok && (k.ints != nil || k.floats != nil) {
			stand(t)
		}
	}
	for _, l := range net.TopoLayers() {
		if l.NbOutputs() == 1 {
			if v, ok := vals[l.Output(0)]; ok {
				d := dsl.Dims{int64(len(v))}
				if l.Output(0).Rank() == 0 {
					d = dsl.Dims{}
				}
				r.Alias(l.Output(0), intConstant(r.Dst, l.Output(0).Type(), d, v))
				continue
			}
		}
		all := l.NbOutputs() > 0
		for j := 0; j < l.NbOutputs(); j++ {
			_, ok := known[l.Output(j)]
			all = all && ok
		}
		if all {
			for j := 0; j < l.NbOutputs(); j++ {
				stand(l.Output(j))
			}
			continue
		}
		r.Copy(l)
	}
	cp, err := r.Finish()
	if err != nil {
		return nil, nil, err
	}
	for _, in := range cp.Inputs() {
		s, ok := shapes[in.Name()]
		if !ok {
			return nil, nil, diag.Errorf(diag.InvalidArgument, "no shape for input %q", in.Name())
		}
		in.SetDims(dsl.Dims(s))
	}
	if err := cp.Err(); err != nil {
		return nil, nil, err
	}
	return r, cp, nil
}

func intConstant(net *dsl.Network, dt dsl.DataType, dims dsl.Dims, v []int64) *dsl.Tensor {
	w := dsl.Int64Weights(v...)
	if dt == dsl.Int32 {
		v32 := make([]int32, len(v))
		for i, x := range v {
			v32[i] = int32(x)
		}
		w = dsl.Int32Weights(v32...)
	}
	return net.AddConstant(dims, w).Output(0)
}

// firstDynamic is the first tensor whose dims stay dynamic in the copy.
func firstDynamic(net *dsl.Network, r *ir.Rebuilder) *dsl.Tensor {
	for _, t := range net.Tensors() {
		if c := r.Map(t); c != nil && !c.Dims().IsStatic() {
			return t
		}
	}
	return nil
}

// evalShapeTensors computes, on the CPU engine, the small integer tensors
// whose dims are static in the copy but whose values the DSL does not
// know, when they depend on the input dims alone: in the subgraph that
// computes them, values flow only from Shape layers (replaced by the dims
// the copy infers) and constants. Others depend on data and are left out.
func evalShapeTensors(net *dsl.Network, r *ir.Rebuilder, shapes map[string][]int64, known map[*dsl.Tensor]knownTensor) map[*dsl.Tensor][]int64 {
	dataDep := dependsOnDataGiven(net, known)
	var cands []*dsl.Tensor
	for _, t := range net.Tensors() {
		c := r.Map(t)
		if c == nil || dataDep[t] || (c.Type() != dsl.Int32 && c.Type() != dsl.Int64) {
			continue
		}
		d := c.Dims()
		if !d.IsStatic() || len(d) > 1 || volume(d) > 64 {
			continue
		}
		if _, known := c.KnownValues(); known {
			continue
		}
		cands = append(cands, t)
	}
	if len(cands) == 0 {
		return nil
	}
	// The ancestors of each candidate, stopping at Shape layers; a
	// candidate can be evaluated when every Shape it reaches has static
	// input dims in the copy and no ancestor is in a loop or conditional.
	regions := ir.RegionMembers(net)
	ancestors := func(t *dsl.Tensor) (map[dsl.Layer]bool, bool) {
		seen := map[dsl.Layer]bool{}
		ok := true
		var visit func(t *dsl.Tensor)
		visit = func(t *dsl.Tensor) {
			l, _ := t.Producer()
			if l == nil || seen[l] || !ok {
				return
			}
			seen[l] = true
			if regions[l] {
				ok = false
				return
			}
			if k, isKnown := known[t]; isKnown && k.ints != nil {
				return // a value read back: a constant in the subnetwork
			}
			if l.Type() == dsl.LayerShape {
				ok = ok && r.Map(l.Input(0)).Dims().IsStatic()
				return
			}
			for i := 0; i < l.NbInputs(); i++ {
				if in := l.Input(i); in != nil {
					visit(in)
				}
			}
		}
		visit(t)
		return seen, ok
	}
	need := map[dsl.Layer]bool{}
	var ready []*dsl.Tensor
	for _, t := range cands {
		if anc, ok := ancestors(t); ok {
			ready = append(ready, t)
			for l := range anc {
				need[l] = true
			}
		}
	}
	cands = ready
	if len(cands) == 0 {
		return nil
	}
	sub := ir.NewRebuilder(net)
	for _, t := range net.Inputs() {
		if kv, ok := known[t]; ok && kv.ints != nil {
			sub.Alias(t, intConstant(sub.Dst, t.Type(), dsl.Dims(kv.dims), kv.ints))
		}
	}
	for _, l := range net.TopoLayers() {
		if !need[l] {
			continue
		}
		if kv, ok := knownOutput(l, known); ok {
			sub.Alias(l.Output(0), intConstant(sub.Dst, l.Output(0).Type(), dsl.Dims(kv.dims), kv.ints))
			continue
		}
		if l.Type() == dsl.LayerShape {
			// The dims of the shape's input, as the static copy has
			// them (known where the input's dims are).
			d := r.Map(l.Input(0)).Dims()
			sub.Alias(l.Output(0), intConstant(sub.Dst, dsl.Int64, dsl.Dims{int64(len(d))}, d))
			continue
		}
		sub.Copy(l)
	}
	subNet := sub.Dst
	names := map[*dsl.Tensor]string{}
	for i, t := range cands {
		m := sub.Map(t)
		if m == nil || m.IsNetworkOutput() {
			continue
		}
		names[t] = fmt.Sprintf("shape_tensor_%d", i)
		m.SetName(names[t])
		subNet.MarkOutput(m)
	}
	if subNet.Err() != nil {
		return nil
	}
	// The inputs are bound but never read: Shape layers became constants.
	in := map[string]*tensor.Tensor{}
	for _, t := range net.Inputs() {
		in[t.Name()] = tensor.New(t.Type(), shapes[t.Name()]...)
	}
	out, err := cpueng.Run(subNet, in)
	if err != nil {
		return nil
	}
	vals := map[*dsl.Tensor][]int64{}
	for t, n := range names {
		if v := out[n]; v != nil {
			vals[t] = v.Int64Values()
		}
	}
	return vals
}

// dependsOnData marks the tensors a path from a network input reaches
// without passing a Shape layer: their values are known only at run time.
func dependsOnData(net *dsl.Network) map[*dsl.Tensor]bool {
	return dependsOnDataGiven(net, nil)
}

// dependsOnDataGiven is dependsOnData where the tensors whose values a
// run has read back (known) no longer depend on data.
func dependsOnDataGiven(net *dsl.Network, known map[*dsl.Tensor]knownTensor) map[*dsl.Tensor]bool {
	dep := map[*dsl.Tensor]bool{}
	valued := func(t *dsl.Tensor) bool { k, ok := known[t]; return ok && k.ints != nil }
	for _, t := range net.Inputs() {
		dep[t] = !valued(t)
	}
	for _, l := range net.TopoLayers() {
		if l.Type() == dsl.LayerShape {
			continue
		}
		d := false
		for i := 0; i < l.NbInputs(); i++ {
			d = d || dep[l.Input(i)]
		}
		for i := 0; i < l.NbOutputs(); i++ {
			dep[l.Output(i)] = d && !valued(l.Output(i))
		}
	}
	return dep
}

// knownOutput is the read-back value of l's only output, if any.
func knownOutput(l dsl.Layer, known map[*dsl.Tensor]knownTensor) (knownTensor, bool) {
	if l.NbOutputs() != 1 {
		return knownTensor{}, false
	}
	k, ok := known[l.Output(0)]
	return k, ok && k.ints != nil
}

// shapeKey identifies a set of input shapes.
func shapeKey(shapes map[string][]int64) string {
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s:%v;", n, shapes[n])
	}
	return b.String()
}

func volume(d []int64) int64 {
	v := int64(1)
	for _, x := range d {
		v *= x
	}
	return v
}

// arena assigns each buffer an offset in one allocation, by liveness:
// a buffer's bytes are reused once its last reader has run.
type arena struct {
	free []span // sorted by offset
	size int64
}

type span struct{ off, n int64 }

const arenaAlign = 256

func (a *arena) alloc(n int64) int64 {
	n = (n + arenaAlign - 1) &^ (arenaAlign - 1)
	if n == 0 {
		n = arenaAlign
	}
	for i, s := range a.free {
		if s.n >= n {
			off := s.off
			if s.n == n {
				a.free = append(a.free[:i], a.free[i+1:]...)
			} else {
				a.free[i] = span{s.off + n, s.n - n}
			}
			return off
		}
	}
	off := a.size
	a.size += n
	return off
}

func (a *arena) release(off, n int64) {
	n = (n + arenaAlign - 1) &^ (arenaAlign - 1)
	if n == 0 {
		n = arenaAlign
	}
	a.free = append(a.free, span{off, n})
	sort.Slice(a.free, func(i, j int) bool { return a.free[i].off < a.free[j].off })
	// merge neighbours
	out := a.free[:0]
	for _, s := range a.free {
		if k := len(out); k > 0 && out[k-1].off+out[k-1].n == s.off {
			out[k-1].n += s.n
			continue
		}
		out = append(out, s)
	}
	a.free = out
}
