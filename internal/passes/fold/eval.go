package fold

import (
	"errors"
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// maxAttempts bounds the evaluations of one network: each failed attempt
// drops the layer the CPU engine failed on (and what depends on it) and
// tries the rest again. Failures are rare (a constant division by zero),
// so the bound is only a guard; past it nothing is folded.
const maxAttempts = 16

// needed returns the tensors the rebuilt network reads: inputs of layers
// that are copied and network outputs. A folded layer's inputs are not
// needed (it becomes a Constant), so the constant subgraph behind it
// disappears.
func (a *analysis) needed() map[*dsl.Tensor]bool {
	need := map[*dsl.Tensor]bool{}
	for _, o := range a.net.Outputs() {
		need[o] = true
	}
	for _, l := range a.order {
		if a.fold[l] || a.source[l] {
			continue
		}
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil {
				need[t] = true
			}
		}
	}
	// A Cast source reads a Constant; it is copied only when needed. (Its
	// input is a Constant, so one round settles it.)
	for _, l := range a.order {
		if a.source[l] && l.Type() == dsl.LayerCast && need[l.Output(0)] {
			need[l.Input(0)] = true
		}
	}
	return need
}

// evaluate computes the needed outputs of the folded layers, in one CPU
// engine run of a scratch network holding the constant subgraph. A layer
// the engine fails on is dropped from a.fold, with the layers that read it,
// and the rest is tried again.
func (a *analysis) evaluate() map[*dsl.Tensor]*tensor.Tensor {
	for attempt := 0; attempt < maxAttempts && len(a.fold) > 0; attempt++ {
		vals, failed := a.evaluateOnce()
		if failed == nil {
			return vals
		}
		if !a.fold[failed] {
			break // not one of ours: fold nothing rather than guess
		}
		delete(a.fold, failed)
		a.dropDependents()
	}
	a.fold = map[dsl.Layer]bool{}
	return nil
}

// dropDependents removes from a.fold the layers that read a tensor that is
// no longer constant.
func (a *analysis) dropDependents() {
	for _, l := range a.order {
		if !a.fold[l] || l.Type() == dsl.LayerShape {
			continue
		}
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil && !a.isConst(t) {
				delete(a.fold, l)
				break
			}
		}
	}
}

// evaluateOnce builds and runs the scratch network. It returns the values
// of the needed folded outputs, or the source layer the engine failed on
// (a layer not in a.fold, or nil with no values, when the failure names no
// layer of the scratch network).
func (a *analysis) evaluateOnce() (map[*dsl.Tensor]*tensor.Tensor, dsl.Layer) {
	need := a.needed()
	vals := map[*dsl.Tensor]*tensor.Tensor{}
	s := dsl.NewNetwork()
	s.SetName(a.net.Name() + " (constant folding)")
	m := map[*dsl.Tensor]*dsl.Tensor{}
	var from []dsl.Layer // scratch layer index -> the layer it copies
	add := func(src, cp dsl.Layer) {
		for len(from) <= cp.Index() {
			from = append(from, nil)
		}
		from[cp.Index()] = src
		for i := 0; i < src.NbOutputs(); i++ {
			m[src.Output(i)] = cp.Output(i)
		}
	}
	// input maps t into the scratch network, copying a source layer the
	// first time a folded layer reads it.
	var input func(t *dsl.Tensor) *dsl.Tensor
	input = func(t *dsl.Tensor) *dsl.Tensor {
		if t == nil {
			return nil
		}
		if st, ok := m[t]; ok {
			return st
		}
		p, _ := t.Producer()
		if !a.source[p] {
			panic(fmt.Sprintf("fold: %s reads %q before it is computed", dsl.LayerString(p), t.Name()))
		}
		in := make([]*dsl.Tensor, p.NbInputs())
		for i := range in {
			in[i] = input(p.Input(i))
		}
		add(p, s.CopyLayer(p, in))
		return m[t]
	}
	var marked []*dsl.Tensor // original tensors, in the order their copies were marked
	for _, l := range a.order {
		if !a.fold[l] {
			continue
		}
		if l.Type() == dsl.LayerShape {
			v := shapeValue(l)
			vals[l.Output(0)] = v
			add(l, s.AddConstant(dsl.Dims(v.Shape()), dsl.NewWeights(v)))
			continue
		}
		in := make([]*dsl.Tensor, l.NbInputs())
		for i := range in {
			in[i] = input(l.Input(i))
		}
		cp := s.CopyLayer(l, in)
		if cp == nil {
			return nil, nil
		}
		add(l, cp)
		for i := 0; i < l.NbOutputs(); i++ {
			if need[l.Output(i)] {
				st := cp.Output(i)
				st.SetName(fmt.Sprintf("fold_%d", len(marked)))
				s.MarkOutput(st)
				marked = append(marked, l.Output(i))
			}
		}
	}
	if len(marked) == 0 {
		return vals, nil
	}
	res, err := cpu.Run(s, nil)
	if err != nil {
		return nil, failedLayer(err, s, from)
	}
	for i, t := range marked {
		v := res[fmt.Sprintf("fold_%d", i)]
		if v == nil {
			return nil, nil
		}
		vals[t] = v
	}
	return vals, nil
}

// failedLayer finds the layer of the original network an engine error is
// about, or nil.
func failedLayer(err error, s *dsl.Network, from []dsl.Layer) dsl.Layer {
	var de *diag.Error
	if !errors.As(err, &de) {
		return nil
	}
	i := de.Index
	if i < 0 || i >= len(from) || from[i] == nil || s.Layer(i).Name() != de.Layer {
		return nil
	}
	return from[i]
}

// rebuild copies the network with every folded layer's needed outputs
// replaced by Constant layers, dropping the constant layers nothing reads
// any more. It returns the names of the folded layers.
func (a *analysis) rebuild(vals map[*dsl.Tensor]*tensor.Tensor) (*dsl.Network, map[string]bool, error) {
	need := a.needed()
	r := ir.NewRebuilder(a.net)
	folded := map[string]bool{}
	for _, l := range a.order {
		switch {
		case a.fold[l]:
			first := true
			for i := 0; i < l.NbOutputs(); i++ {
				t := l.Output(i)
				if !need[t] {
					continue
				}
				v := vals[t]
				if v == nil || v.DType() != t.Type() || !t.Dims().Equal(dsl.Dims(v.Shape())) {
					return nil, nil, diag.Errorf(diag.Internal, "constant folding of %s: output %d (%v %v) was computed as %v", dsl.LayerString(l), i, t.Type(), t.Dims(), v)
				}
				name := l.Name()
				if !first || i > 0 {
					name = fmt.Sprintf("%s_out%d", name, i)
				}
				first = false
				r.Alias(t, constant(r.Dst, name, t.Name(), v))
			}
			folded[l.Name()] = true
		case a.source[l] && !anyNeeded(l, need):
			// read only by folded layers (or by nothing): gone with them
		default:
			r.Copy(l)
		}
	}
	net, err := r.Finish()
	return net, folded, err
}

func anyNeeded(l dsl.Layer, need map[*dsl.Tensor]bool) bool {
	for i := 0; i < l.NbOutputs(); i++ {
		if need[l.Output(i)] {
			return true
		}
	}
	return false
}

// constant adds a Constant layer holding v. Bool and UInt8 values, which a
// Constant cannot hold (as in TensorRT), become an Int32 Constant and a
// Cast, the cast keeping the folded layer's name.
func constant(n *dsl.Network, layer, tensorName string, v *tensor.Tensor) *dsl.Tensor {
	dims := dsl.Dims(v.Shape())
	dt := v.DType()
	if dt != dsl.Bool && dt != dsl.UInt8 {
		c := n.AddConstant(dims, dsl.NewWeights(v))
		c.SetName(layer)
		c.Output(0).SetName(tensorName)
		return c.Output(0)
	}
	i32, err := v.Convert(dsl.Int32)
	if err != nil {
		panic(fmt.Sprintf("fold: %v to Int32: %v", dt, err))
	}
	c := n.AddConstant(dims, dsl.NewWeights(i32))
	c.SetName(layer + "_int32")
	c.Output(0).SetName(tensorName + "_int32")
	cast := n.AddCast(c.Output(0), dt)
	cast.SetName(layer)
	cast.Output(0).SetName(tensorName)
	return cast.Output(0)
}
