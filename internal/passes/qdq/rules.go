package qdq

import (
	"math"

	"github.com/trtc/trtc/dsl"
)

// moveDequantize rewrites op(DQ(x)) as DQ(op(x)) when op commutes with a
// per-tensor Dequantize (see the package comment); the new Dequantize is
// only added when a reader needs the float values.
func (p *pass) moveDequantize(l dsl.Layer) bool {
	data := 1 // inputs that carry the dequantized data; the rest are shapes
	switch l := l.(type) {
	case *dsl.ShuffleLayer, *dsl.SqueezeLayer, *dsl.UnsqueezeLayer:
	case *dsl.SliceLayer:
		if l.Mode() == dsl.SampleFill && l.Input(4) != nil {
			return false // the fill value would have to be quantized
		}
	case *dsl.ConcatenationLayer:
		data = l.NbInputs()
	case *dsl.ActivationLayer:
		if l.ActivationType() != dsl.ActivationReLU {
			return false
		}
	default:
		return false
	}
	// A Dequantize takes no scalar data, so the result must keep a dim.
	if data == 0 || l.Output(0).Rank() < 1 {
		return false
	}
	first := p.deqs[l.Input(0)]
	if first == nil || !perTensor(first.dq) {
		return false
	}
	if _, relu := l.(*dsl.ActivationLayer); relu {
		s, ok := constValues(first.dq.Input(1))
		if first.q.Type() != dsl.FP8E4M3 || !ok || !allPositive(s) {
			return false
		}
	}
	for i := 1; i < data; i++ {
		d := p.deqs[l.Input(i)]
		if d == nil || !perTensor(d.dq) || d.q.Type() != first.q.Type() || d.dq.ToType() != first.dq.ToType() || !sameTensor(d.dq.Input(1), first.dq.Input(1)) {
			return false
		}
	}
	in := make([]*dsl.Tensor, l.NbInputs())
	for i := range in {
		if i < data {
			in[i] = p.deqs[l.Input(i)].q
			continue
		}
		p.need(l.Input(i))
		in[i] = p.r.Map(l.Input(i))
	}
	c := p.r.Dst.CopyLayer(l, in)
	if c == nil {
		return false
	}
	out := l.Output(0)
	c.Output(0).SetName(out.Name() + "_quantized")
	p.deqs[out] = &deq{q: c.Output(0), dq: first.dq, name: l.Name() + ".dequantize"}
	p.nbRewrites++
	return true
}

// cancel rewrites Q(DQ(x, s), s) as x: same quantized type, same scale
// and granularity, zero points zero, and every code of the type survives
// the round trip at every scale value.
func (p *pass) cancel(q *dsl.QuantizeLayer) bool {
	d := p.deqs[q.Input(0)]
	if d == nil || q.ToType() != d.q.Type() || !zeroPoint(q.Input(2)) {
		return false
	}
	if q.Axis() != d.dq.Axis() && !(perTensor(d.dq) && isScalar(q.Input(1))) || !q.BlockShape().Equal(d.dq.BlockShape()) {
		return false
	}
	if !sameTensor(q.Input(1), d.dq.Input(1)) {
		return false
	}
	s, ok := constValues(d.dq.Input(1))
	if !ok || !roundTrips(d.q.Type(), d.dq.ToType(), s) {
		return false
	}
	p.r.Alias(q.Output(0), d.q)
	p.nbRewrites++
	return true
}

// perTensor reports whether a Dequantize has one scale for the whole
// tensor.
func perTensor(dq *dsl.DequantizeLayer) bool {
	return isScalar(dq.Input(1)) && len(dq.BlockShape()) == 0
}

func isScalar(t *dsl.Tensor) bool {
	d := t.Dims()
	return len(d) == 0 || len(d) == 1 && d[0] == 1
}

// zeroPoint reports whether an optional zero point is absent or constant
// zeros.
func zeroPoint(t *dsl.Tensor) bool {
	if t == nil {
		return true
	}
	v, ok := constValues(t)
	if !ok {
		return false
	}
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// constValues returns the values of a Constant layer's output.
func constValues(t *dsl.Tensor) ([]float64, bool) {
	l, _ := t.Producer()
	c, ok := l.(*dsl.ConstantLayer)
	if !ok || c.Weights().IsEmpty() {
		return nil, false
	}
	return c.Weights().Tensor().Float64s(), true
}

// sameTensor reports whether a and b are one tensor, or constants of the
// same type, dims and values (bit for bit).
func sameTensor(a, b *dsl.Tensor) bool {
	if a == b {
		return true
	}
	if a.Type() != b.Type() || !a.Dims().Equal(b.Dims()) {
		return false
	}
	va, ok := constValues(a)
	if !ok {
		return false
	}
	vb, ok := constValues(b)
	if !ok || len(va) != len(vb) {
		return false
	}
	for i := range va {
		if math.Float64bits(va[i]) != math.Float64bits(vb[i]) {
			return false
		}
	}
	return true
}

func allPositive(v []float64) bool {
	for _, x := range v {
		if !(x > 0) || math.IsInf(x, 0) {
			return false
		}
	}
	return len(v) > 0
}
