package fuse

import (
	"github.com/trtc/trtc/dsl"
)

// The patterns of the table, in its order. Each returns the members of the
// group seeded at seed, or nil.

// convChain matches a Convolution (its own bias included) followed by its
// per-channel affine epilogue: Scale layers in uniform or channel mode and
// ElementWise ops with a per-channel static operand, which is what a bias
// written as a separate add, or a BatchNorm not folded into the weights,
// looks like.
func (g *graph) convChain(seed dsl.Layer) ([]dsl.Layer, *dsl.Tensor) {
	if seed.Type() != dsl.LayerConvolution {
		return nil, nil
	}
	aff, t := g.affine(seed.Output(0), perChannel, convScale)
	return append([]dsl.Layer{seed}, aff...), t
}

// matchConvResidual: convolution and its epilogue, then an ElementWise sum
// with another tensor of the same dims (the shortcut of a residual block),
// then an optional activation: the end of a ResNet block.
func matchConvResidual(g *graph, seed dsl.Layer) []dsl.Layer {
	ms, t := g.convChain(seed)
	if ms == nil {
		return nil
	}
	add := g.only(t)
	if !g.free(add) || elementWise(add, t, dsl.ElementWiseSum) == nil {
		return nil
	}
	if r := other(add, t); r == t || !r.Dims().Equal(t.Dims()) {
		return nil
	}
	ms = append(ms, add)
	act, _ := g.activation(add.Output(0))
	return append(ms, act...)
}

// matchConvBiasActivation: convolution and its epilogue, then an optional
// activation.
func matchConvBiasActivation(g *graph, seed dsl.Layer) []dsl.Layer {
	ms, t := g.convChain(seed)
	if ms == nil {
		return nil
	}
	act, _ := g.activation(t)
	return append(ms, act...)
}

// matchMatMulBiasActivation: MatrixMultiply, then an optional ElementWise
// sum with a static bias broadcast along the last axis, then an optional
// activation (at least one of the two: a cuBLASLt epilogue). The
// activation includes the erf GELU PyTorch exports as five layers, so a
// transformer MLP's first projection is one group.
func matchMatMulBiasActivation(g *graph, seed dsl.Layer) []dsl.Layer {
	if seed.Type() != dsl.LayerMatrixMultiply {
		return nil
	}
	ms, t := []dsl.Layer{seed}, seed.Output(0)
	if add := g.only(t); g.free(add) && elementWise(add, t, dsl.ElementWiseSum) != nil {
		if b := other(add, t); b != t && g.static(b) && perLastDim(b.Dims(), t.Dims()) {
			ms, t = append(ms, add), add.Output(0)
		}
	}
	act, _ := g.activation(t)
	return append(ms, act...)
}

// matchSoftMax: a SoftMax layer with the pointwise layers that prepare its
// input (an attention's scale and mask, autocast's Cast to fp32; seeded at
// the first of them) and those that consume its output (log, the Cast
// back), or a softmax written out: optional ReduceMax
// and Sub for stability, Exp, ReduceSum, Div, all over the same axes.
func matchSoftMax(g *graph, seed dsl.Layer) []dsl.Layer {
	switch seed.Type() {
	case dsl.LayerSoftMax:
		return append([]dsl.Layer{seed}, g.pointwiseChain(seed.Output(0))...)
	case dsl.LayerReduce:
		return g.softmaxFromMax(seed.(*dsl.ReduceLayer))
	case dsl.LayerUnary:
		if u := seed.(*dsl.UnaryLayer); u.Operation() == dsl.UnaryExp {
			return g.softmaxFromExp(u, 0, false)
		}
	}
	if !isPointwise(seed) {
		return nil
	}
	// A prologue: a chain of pointwise layers keeping the dims, into a SoftMax.
	ms := []dsl.Layer{seed}
	for t := seed.Output(0); ; {
		c := g.only(t)
		if !g.free(c) {
			return nil
		}
		if c.Type() == dsl.LayerSoftMax {
			ms = append(ms, c)
			return append(ms, g.pointwiseChain(c.Output(0))...)
		}
		if !isPointwise(c) || !c.Output(0).Dims().Equal(t.Dims()) {
			return nil
		}
		ms, t = append(ms, c), c.Output(0)
	}
}

// pointwiseChain follows t through single-reader pointwise layers that keep
// its dims.
func (g *graph) pointwiseChain(t *dsl.Tensor) []dsl.Layer {
	var ms []dsl.Layer
	for {
		c := g.only(t)
		if !g.free(c) || !isPointwise(c) || !c.Output(0).Dims().Equal(t.Dims()) {
			return ms
		}
		ms, t = append(ms, c), c.Output(0)
	}
}

// softmaxFromMax: m = ReduceMax(x), s = x - m, then the rest from Exp(s).
func (g *graph) softmaxFromMax(m *dsl.ReduceLayer) []dsl.Layer {
	if m.Operation() != dsl.ReduceMax || !m.KeepDimensions() {
		return nil
	}
	x := m.Input(0)
	sub := g.only(m.Output(0))
	if !g.free(sub) || elementWise(sub, x, dsl.ElementWiseSub) == nil || sub.Input(0) != x || sub.Input(1) != m.Output(0) {
		return nil
	}
	exp, ok := g.only(sub.Output(0)).(*dsl.UnaryLayer)
	if !ok || !g.free(exp) || exp.Operation() != dsl.UnaryExp {
		return nil
	}
	rest := g.softmaxFromExp(exp, m.ReduceAxes(), true)
	if rest == nil {
		return nil
	}
	return append([]dsl.Layer{m, sub}, rest...)
}

// softmaxFromExp: e = Exp(.), s = ReduceSum(e) keeping dims, e / s; e is
// read by exactly those two, s only by the division. With sameAxes the
// sum must reduce axes.
func (g *graph) softmaxFromExp(exp *dsl.UnaryLayer, axes uint32, sameAxes bool) []dsl.Layer {
	e := exp.Output(0)
	cs := g.consumers[e]
	if e.IsNetworkOutput() || len(cs) != 2 {
		return nil
	}
	for _, order := range [][2]dsl.Layer{{cs[0], cs[1]}, {cs[1], cs[0]}} {
		sum, ok := order[0].(*dsl.ReduceLayer)
		div := order[1]
		if !ok || !g.free(sum) || !g.free(div) || sum.Operation() != dsl.ReduceSum || !sum.KeepDimensions() ||
			(sameAxes && sum.ReduceAxes() != axes) || g.only(sum.Output(0)) != div {
			continue
		}
		if elementWise(div, e, dsl.ElementWiseDiv) == nil || div.Input(0) != e || div.Input(1) != sum.Output(0) {
			continue
		}
		return []dsl.Layer{exp, sum, div}
	}
	return nil
}

// matchNormalization: a Normalization layer, optionally preceded by a Cast
// and by the residual add of a transformer (an ElementWise sum of two
// tensors of its dims: "skip layer norm"; the sum may be read elsewhere
// too, the residual stream goes on, so such a group has two outputs), and
// followed by its affine (Scale, or products and sums with static
// operands, and Casts) and an optional activation. Or LayerNorm written as
// reductions, as PyTorch exports it below opset 17.
func matchNormalization(g *graph, seed dsl.Layer) []dsl.Layer {
	switch l := seed.(type) {
	case *dsl.NormalizationLayer:
		return append(g.normPrologue(l), g.normEpilogue(l.Output(0))...)
	case *dsl.ReduceLayer:
		return g.layerNormFromReduces(l)
	}
	return nil
}

// normPrologue returns l with what prepares its input: a Cast (autocast
// computes normalizations in fp32) and before it the residual add. The add
// is taken only when the scale and bias are static, so that they cannot
// depend on the add (acceptable checks it anyway).
func (g *graph) normPrologue(l *dsl.NormalizationLayer) []dsl.Layer {
	ms := []dsl.Layer{l}
	x := l.Input(0)
	if p, _ := x.Producer(); g.free(p) && p.Type() == dsl.LayerCast && g.only(x) == l {
		ms, x = append(ms, p), p.Input(0)
	}
	if !g.static(l.Input(1)) || (l.Input(2) != nil && !g.static(l.Input(2))) {
		return ms
	}
	if p, _ := x.Producer(); g.free(p) {
		if add, ok := p.(*dsl.ElementWiseLayer); ok && add.Operation() == dsl.ElementWiseSum &&
			fitsAtRunTime(add.Input(0).Dims(), x.Dims()) && fitsAtRunTime(add.Input(1).Dims(), x.Dims()) {
			ms = append(ms, p)
		}
	}
	return ms
}

// normEpilogue is a normalization's affine and activation.
func (g *graph) normEpilogue(t *dsl.Tensor) []dsl.Layer {
	ms, t := g.affine(t, broadcastsInto, anyScale)
	act, _ := g.activation(t)
	return append(ms, act...)
}

// layerNormFromReduces matches
//
//	mean = ReduceAvg(x); d = x - mean; v = ReduceAvg(d*d or d^2)
//	y = d / Sqrt(v + eps)   (or d * Recip(Sqrt(v + eps)))
//
// with both reductions over the same axes, keeping dims, then the affine.
func (g *graph) layerNormFromReduces(mean *dsl.ReduceLayer) []dsl.Layer {
	if mean.Operation() != dsl.ReduceAvg || !mean.KeepDimensions() {
		return nil
	}
	x := mean.Input(0)
	sub := g.only(mean.Output(0))
	if !g.free(sub) || elementWise(sub, x, dsl.ElementWiseSub) == nil || sub.Input(0) != x || sub.Input(1) != mean.Output(0) {
		return nil
	}
	d := sub.Output(0)
	cs := g.consumers[d]
	if d.IsNetworkOutput() || len(cs) != 2 {
		return nil
	}
	for _, order := range [][2]dsl.Layer{{cs[0], cs[1]}, {cs[1], cs[0]}} {
		if ms := g.layerNormTail(mean, sub, order[0], order[1]); ms != nil {
			return ms
		}
	}
	return nil
}

// layerNormTail matches the variance from sq (the square of d) and the
// normalization in norm, both readers of d = sub's output.
func (g *graph) layerNormTail(mean *dsl.ReduceLayer, sub, sq, norm dsl.Layer) []dsl.Layer {
	d := sub.Output(0)
	if !g.free(sq) || !g.free(norm) {
		return nil
	}
	switch ew := elementWise(sq, d, dsl.ElementWiseProd, dsl.ElementWisePow); {
	case ew == nil:
		return nil
	case ew.Operation() == dsl.ElementWiseProd && (ew.Input(0) != d || ew.Input(1) != d):
		return nil
	case ew.Operation() == dsl.ElementWisePow && (ew.Input(0) != d || !g.isScalar(ew.Input(1), 2)):
		return nil
	}
	ms := []dsl.Layer{mean, sub, sq}
	v, ok := g.only(sq.Output(0)).(*dsl.ReduceLayer)
	if !ok || !g.free(v) || v.Operation() != dsl.ReduceAvg || v.ReduceAxes() != mean.ReduceAxes() || !v.KeepDimensions() {
		return nil
	}
	ms = append(ms, v)
	t := v.Output(0)
	if eps := g.only(t); g.free(eps) && elementWise(eps, t, dsl.ElementWiseSum) != nil && g.static(other(eps, t)) {
		ms, t = append(ms, eps), eps.Output(0)
	}
	sqrt, ok := g.only(t).(*dsl.UnaryLayer)
	if !ok || !g.free(sqrt) || sqrt.Operation() != dsl.UnarySqrt {
		return nil
	}
	ms, t = append(ms, sqrt), sqrt.Output(0)
	if r, ok := g.only(t).(*dsl.UnaryLayer); ok && g.free(r) && r.Operation() == dsl.UnaryRecip {
		ms, t = append(ms, r), r.Output(0)
		if elementWise(norm, d, dsl.ElementWiseProd) == nil || other(norm, d) != t {
			return nil
		}
	} else if elementWise(norm, d, dsl.ElementWiseDiv) == nil || norm.Input(0) != d || norm.Input(1) != t {
		return nil
	}
	if g.only(t) != norm {
		return nil
	}
	ms = append(ms, norm)
	return append(ms, g.normEpilogue(norm.Output(0))...)
}

// matchReduceChain: a Reduce layer with the reductions over the same axes
// and the pointwise layers around it, on the reduced tensor's dims or the
// reduced dims (a row-wise kernel: variance, L2 norm, a mean and what is
// done with it). The group has at least one Reduce.
func matchReduceChain(g *graph, seed dsl.Layer) []dsl.Layer {
	r, ok := seed.(*dsl.ReduceLayer)
	if !ok {
		return nil
	}
	full, reduced := r.Input(0).Dims(), r.Output(0).Dims()
	eligible := func(l dsl.Layer) bool {
		if rl, ok := l.(*dsl.ReduceLayer); ok {
			return rl.ReduceAxes() == r.ReduceAxes() && rl.KeepDimensions() == r.KeepDimensions() && rl.Input(0).Dims().Equal(full)
		}
		od := l.Output(0).Dims()
		return isPointwise(l) && (od.Equal(full) || od.Equal(reduced))
	}
	ms := g.grow(seed, eligible, true)
	for _, m := range ms {
		if m.Type() == dsl.LayerReduce {
			return ms
		}
	}
	return nil
}

// matchPointwise: the pointwise layers reachable from seed through layers
// of the seed's output dims (inputs from outside the group may broadcast).
func matchPointwise(g *graph, seed dsl.Layer) []dsl.Layer {
	if !isPointwise(seed) {
		return nil
	}
	dims := seed.Output(0).Dims()
	return g.grow(seed, func(l dsl.Layer) bool { return isPointwise(l) && l.Output(0).Dims().Equal(dims) }, false)
}
