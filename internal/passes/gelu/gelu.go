// Package gelu recognizes the exact (erf) GELU that PyTorch and
// TensorFlow export as five layers,
//
//	0.5 * x * (1 + erf(x / sqrt(2)))
//
// and rewrites it into one ActivationGeluErf layer, as onnx-tensorrt and
// ONNX Runtime do. Every target then computes the GELU in float and
// rounds once: in half precision the five layers rounded four
// intermediates, and a fused GPU kernel spent most of its time converting
// them (a conversion runs at an eighth of float32's rate on an H100).
package gelu

import (
	"math"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// Erf rewrites every erf GELU of g into an ActivationGeluErf layer, or
// returns g when it has none. The layers between x and the result must
// have no other readers, and the constants must be scalars of the
// pattern's values within 1e-3 (float16's rounding of 1/sqrt(2)).
func Erf(g *ir.Graph, _ ir.Options) (*ir.Graph, error) {
	net := g.Net
	layers := net.TopoLayers()
	readers := map[*dsl.Tensor][]dsl.Layer{}
	for _, l := range layers {
		for j := 0; j < l.NbInputs(); j++ {
			if t := l.Input(j); t != nil {
				readers[t] = append(readers[t], l)
			}
		}
	}
	m := matcher{readers: readers}
	matched := map[dsl.Layer]*dsl.Tensor{} // the pattern's last layer -> its x
	inner := map[dsl.Layer]bool{}          // the other layers of a match
	for _, l := range layers {
		if x, ls, ok := m.match(l); ok {
			matched[ls[len(ls)-1]] = x
			for _, p := range ls[:len(ls)-1] {
				inner[p] = true
			}
		}
	}
	if len(matched) == 0 {
		return g, nil
	}
	r := ir.NewRebuilder(net)
	for _, l := range layers {
		switch x, last := matched[l]; {
		case last:
			act := r.Dst.AddActivation(r.Map(x), dsl.ActivationGeluErf)
			act.SetName(l.Name())
			r.Alias(l.Output(0), act.Output(0))
		case inner[l]:
		default:
			r.Copy(l)
		}
	}
	out, err := r.Finish()
	if err != nil {
		return nil, err
	}
	return g.Derive(out), nil
}

// match reports whether erf (a UnaryErf layer) is the middle of an erf
// GELU, with its input x and the pattern's layers from the scaling of x
// to the result (the result last).
func (mt matcher) match(erf dsl.Layer) (*dsl.Tensor, []dsl.Layer, bool) {
	consumer := mt.consumer
	if u, ok := erf.(*dsl.UnaryLayer); !ok || u.Operation() != dsl.UnaryErf || !mt.only(erf.Output(0)) {
		return nil, nil, false
	}
	// x / sqrt(2), or x * (1 / sqrt(2)).
	scale, _ := erf.Input(0).Producer()
	x, ok := operand(scale, dsl.ElementWiseDiv, math.Sqrt2)
	if !ok {
		x, ok = operand(scale, dsl.ElementWiseProd, 1/math.Sqrt2)
	}
	if !ok || !mt.only(scale.Output(0)) || !isFloat(x) {
		return nil, nil, false
	}
	// 1 + erf(...)
	plus := consumer(erf.Output(0))
	if y, ok := operand(plus, dsl.ElementWiseSum, 1); !ok || y != erf.Output(0) || !mt.only(plus.Output(0)) {
		return nil, nil, false
	}
	a := plus.Output(0)
	ls := []dsl.Layer{scale, erf, plus}
	// (x * a) * 0.5, or x * (a * 0.5).
	if m := consumer(a); m != nil && mt.only(m.Output(0)) {
		if other, ok := product(m, a); ok && other == x {
			if last := consumer(m.Output(0)); last != nil {
				if y, ok := operand(last, dsl.ElementWiseProd, 0.5); ok && y == m.Output(0) {
					return sameDims(x, append(ls, m, last))
				}
			}
		}
		if y, ok := operand(m, dsl.ElementWiseProd, 0.5); ok && y == a {
			if last := consumer(m.Output(0)); last != nil {
				if other, ok := product(last, m.Output(0)); ok && other == x {
					return sameDims(x, append(ls, m, last))
				}
			}
		}
	}
	// (x * 0.5) * a: the half of x is the other factor of a's product.
	if last := consumer(a); last != nil {
		if h, ok := product(last, a); ok && mt.only(h) {
			hl, _ := h.Producer()
			if y, ok := operand(hl, dsl.ElementWiseProd, 0.5); ok && y == x {
				return sameDims(x, append([]dsl.Layer{hl}, append(ls, last)...))
			}
		}
	}
	return nil, nil, false
}

// sameDims keeps a match only when every layer of it has x's dims and
// type (the constants broadcast into x, never x into something larger).
func sameDims(x *dsl.Tensor, ls []dsl.Layer) (*dsl.Tensor, []dsl.Layer, bool) {
	for _, l := range ls {
		if o := l.Output(0); !o.Dims().Equal(x.Dims()) || o.Type() != x.Type() {
			return nil, nil, false
		}
	}
	return x, ls, true
}

// matcher knows who reads each tensor of the network (a layer reading
// it twice counts twice).
type matcher struct {
	readers map[*dsl.Tensor][]dsl.Layer
}

// only reports whether one layer reads t and t is no network output.
func (mt matcher) only(t *dsl.Tensor) bool { return len(mt.readers[t]) == 1 && !t.IsNetworkOutput() }

// consumer is the one layer that reads t, or nil.
func (mt matcher) consumer(t *dsl.Tensor) dsl.Layer {
	if cs := mt.readers[t]; len(cs) == 1 {
		return cs[0]
	}
	return nil
}

// operand is the tensor l combines by op with a scalar constant of value
// c (as its second operand; either one for sums and products).
func operand(l dsl.Layer, op dsl.ElementWiseOperation, c float64) (*dsl.Tensor, bool) {
	e, ok := l.(*dsl.ElementWiseLayer)
	if !ok || e.Operation() != op {
		return nil, false
	}
	if isScalar(e.Input(1), c) {
		return e.Input(0), true
	}
	if op != dsl.ElementWiseDiv && isScalar(e.Input(0), c) {
		return e.Input(1), true
	}
	return nil, false
}

// product is the other factor of l when l multiplies t by something.
func product(l dsl.Layer, t *dsl.Tensor) (*dsl.Tensor, bool) {
	e, ok := l.(*dsl.ElementWiseLayer)
	if !ok || e.Operation() != dsl.ElementWiseProd {
		return nil, false
	}
	switch t {
	case e.Input(0):
		return e.Input(1), true
	case e.Input(1):
		return e.Input(0), true
	}
	return nil, false
}

// isScalar reports whether t is a one-element constant of value c.
func isScalar(t *dsl.Tensor, c float64) bool {
	v, ok := ir.ScalarConstant(t)
	return ok && math.Abs(v-c) <= 1e-3*math.Abs(c)
}

func isFloat(t *dsl.Tensor) bool {
	switch t.Type() {
	case dsl.Float32, dsl.Float16, dsl.BFloat16:
		return true
	}
	return false
}
