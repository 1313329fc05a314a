package fuse

import (
	"math"

	"github.com/trtc/trtc/dsl"
)

// Building blocks the patterns share. Each follows the network from a
// tensor and returns the layers it recognised, or nil.

// isPointwise reports whether l computes each output element from the
// elements at the same (broadcast) index of its inputs.
func isPointwise(l dsl.Layer) bool {
	switch l.Type() {
	case dsl.LayerUnary, dsl.LayerActivation, dsl.LayerElementWise, dsl.LayerCast,
		dsl.LayerScale, dsl.LayerSelect, dsl.LayerParametricReLU:
		return true
	}
	return false
}

// other returns the input of the binary layer l that is not t (t itself
// when l reads t twice), or nil when l does not read t.
func other(l dsl.Layer, t *dsl.Tensor) *dsl.Tensor {
	if l.NbInputs() != 2 {
		return nil
	}
	switch {
	case l.Input(0) == t:
		return l.Input(1)
	case l.Input(1) == t:
		return l.Input(0)
	}
	return nil
}

// static reports whether t is known without running the network on data:
// weights, or arithmetic on weights and shapes.
func (g *graph) static(t *dsl.Tensor) bool { return t != nil && !g.data[t] }

// elementWise returns l as an ElementWise layer with operation op that
// reads t and does not broadcast it (its output has t's dims), or nil.
func elementWise(l dsl.Layer, t *dsl.Tensor, ops ...dsl.ElementWiseOperation) *dsl.ElementWiseLayer {
	ew, ok := l.(*dsl.ElementWiseLayer)
	if !ok || other(l, t) == nil || !ew.Output(0).Dims().Equal(t.Dims()) {
		return nil
	}
	for _, op := range ops {
		if ew.Operation() == op {
			return ew
		}
	}
	return nil
}

// operandFits says whether a static operand b may be applied to a tensor of
// dims out inside a group's epilogue.
type operandFits func(b, out dsl.Dims) bool

// perChannel: b is 1 everywhere except axis 1 (NCHW channels), where it is
// 1 or the channel count.
func perChannel(b, out dsl.Dims) bool {
	if len(b) != len(out) || len(out) < 2 {
		return false
	}
	for i := range b {
		if b[i] != 1 && (i != 1 || b[i] != out[i]) {
			return false
		}
	}
	return true
}

// perLastDim: b is 1 everywhere except the last axis, where it is 1 or the
// size of out's last axis (a matrix multiply's bias over its columns).
func perLastDim(b, out dsl.Dims) bool {
	n := len(out)
	if len(b) != n || n == 0 {
		return false
	}
	for i := range b {
		if b[i] != 1 && (i != n-1 || b[i] != out[i]) {
			return false
		}
	}
	return true
}

// broadcastsInto: any operand that broadcasts to out without growing it
// (the affine of a normalization, over whatever axes it normalized).
func broadcastsInto(b, out dsl.Dims) bool {
	if len(b) != len(out) {
		return false
	}
	for i := range b {
		if b[i] != 1 && b[i] != out[i] {
			return false
		}
	}
	return true
}

// fitsAtRunTime: b broadcasts into out, where a dynamic dim of b may be
// either (a residual add whose one side went through a dynamic reshape).
func fitsAtRunTime(b, out dsl.Dims) bool {
	if len(b) != len(out) {
		return false
	}
	for i := range b {
		if b[i] != 1 && b[i] != -1 && b[i] != out[i] {
			return false
		}
	}
	return true
}

// affine follows t through layers that apply static coefficients: Scale
// layers without a power (scaleOK decides the mode), and ElementWise
// sum, product, difference or quotient with a static operand that fits
// (t on the left for difference and quotient), and Casts. A BatchNorm
// imported or written with dsl/nn is such a Scale. It returns the layers
// and the last tensor.
func (g *graph) affine(t *dsl.Tensor, fits operandFits, scaleOK func(*dsl.ScaleLayer) bool) ([]dsl.Layer, *dsl.Tensor) {
	var ms []dsl.Layer
	for {
		c := g.only(t)
		if !g.free(c) {
			return ms, t
		}
		switch l := c.(type) {
		case *dsl.CastLayer:
			// The type the kernel writes (autocast's fp16 after an fp32
			// normalization, for example).
		case *dsl.ScaleLayer:
			if !l.Power().IsEmpty() || !scaleOK(l) || l.Input(0) != t {
				return ms, t
			}
		case *dsl.ElementWiseLayer:
			ew := elementWise(l, t, dsl.ElementWiseSum, dsl.ElementWiseProd, dsl.ElementWiseSub, dsl.ElementWiseDiv)
			if ew == nil {
				return ms, t
			}
			b := other(ew, t)
			if !g.static(b) || !fits(b.Dims(), t.Dims()) {
				return ms, t
			}
			if op := ew.Operation(); (op == dsl.ElementWiseSub || op == dsl.ElementWiseDiv) && ew.Input(0) != t {
				return ms, t
			}
		default:
			return ms, t
		}
		ms = append(ms, c)
		t = c.Output(0)
	}
}

// convScale accepts the Scale layers a per-channel epilogue can apply to
// an NCHW convolution output.
func convScale(l *dsl.ScaleLayer) bool {
	return l.Mode() == dsl.ScaleUniform || (l.Mode() == dsl.ScaleChannel && l.ChannelAxis() == 1)
}

func anyScale(*dsl.ScaleLayer) bool { return true }

// activation recognises the activation that ends a convolution, matrix
// multiply or normalization epilogue, reading t: an Activation layer of any
// type, or one of the activations frameworks export as several layers:
// SiLU / swish and hard swish (x * sigmoid(x), x * hardsigmoid(x)) and
// GELU with erf (PyTorch: Div by √2, Erf, Add 1, Mul by x, Mul by 0.5).
// It returns the layers and the activation's output, or nil.
func (g *graph) activation(t *dsl.Tensor) ([]dsl.Layer, *dsl.Tensor) {
	if c := g.only(t); g.free(c) {
		if _, ok := c.(*dsl.ActivationLayer); ok {
			return []dsl.Layer{c}, c.Output(0)
		}
		return nil, nil
	}
	cs := g.consumers[t]
	if t.IsNetworkOutput() || len(cs) != 2 || !g.free(cs[0]) || !g.free(cs[1]) {
		return nil, nil
	}
	for _, try := range []func(a, b dsl.Layer, t *dsl.Tensor) []dsl.Layer{g.silu, g.geluErf} {
		for _, order := range [][2]dsl.Layer{{cs[0], cs[1]}, {cs[1], cs[0]}} {
			if ms := try(order[0], order[1], t); ms != nil {
				last := ms[len(ms)-1]
				return ms, last.Output(0)
			}
		}
	}
	return nil, nil
}

// silu matches sig = Sigmoid(t) or HardSigmoid(t), mul = t * sig.
func (g *graph) silu(sig, mul dsl.Layer, t *dsl.Tensor) []dsl.Layer {
	a, ok := sig.(*dsl.ActivationLayer)
	if !ok || a.Input(0) != t || (a.ActivationType() != dsl.ActivationSigmoid && a.ActivationType() != dsl.ActivationHardSigmoid) {
		return nil
	}
	if g.only(a.Output(0)) != mul || elementWise(mul, t, dsl.ElementWiseProd) == nil || other(mul, t) != a.Output(0) {
		return nil
	}
	return []dsl.Layer{sig, mul}
}

// geluErf matches 0.5 * t * (1 + erf(t / √2)) as PyTorch exports it, with
// the product by 0.5 first or last; div reads t, mul is the other reader.
func (g *graph) geluErf(div, mul dsl.Layer, t *dsl.Tensor) []dsl.Layer {
	d, ok := div.(*dsl.ElementWiseLayer)
	if !ok || d.Input(0) != t {
		return nil
	}
	switch c, ok := g.scalar(d.Input(1)); {
	case !ok:
		return nil
	case d.Operation() == dsl.ElementWiseDiv && near(c, math.Sqrt2):
	case d.Operation() == dsl.ElementWiseProd && near(c, 1/math.Sqrt2):
	default:
		return nil
	}
	erf, ok := g.only(d.Output(0)).(*dsl.UnaryLayer)
	if !ok || !g.free(erf) || erf.Operation() != dsl.UnaryErf {
		return nil
	}
	add := g.only(erf.Output(0))
	if !g.free(add) || elementWise(add, erf.Output(0), dsl.ElementWiseSum) == nil || !g.isScalar(other(add, erf.Output(0)), 1) {
		return nil
	}
	p := elementWise(mul, t, dsl.ElementWiseProd)
	if p == nil {
		return nil
	}
	out := g.only(p.Output(0))
	if !g.free(out) || elementWise(out, p.Output(0), dsl.ElementWiseProd) == nil {
		return nil
	}
	switch {
	case other(p, t) == add.Output(0) && g.only(add.Output(0)) == p && g.isScalar(other(out, p.Output(0)), 0.5): // (t * (1+erf)) * 0.5
	case g.isScalar(other(p, t), 0.5) && other(out, p.Output(0)) == add.Output(0) && g.only(add.Output(0)) == out: // (t * 0.5) * (1+erf)
	default:
		return nil
	}
	return []dsl.Layer{div, erf, add, mul, out}
}

// near compares a constant with the value a pattern expects, within the
// rounding of bf16 (autocast converts constants to the compute type).
func near(v, want float64) bool { return math.Abs(v-want) <= 5e-3*math.Abs(want) }

func (g *graph) isScalar(t *dsl.Tensor, want float64) bool {
	v, ok := g.scalar(t)
	return ok && near(v, want)
}

// scalar returns the value of a one-element static tensor that is a
// Constant, possibly reshaped (Shuffle, Squeeze, Unsqueeze, Identity), as
// importers write scalar operands.
func (g *graph) scalar(t *dsl.Tensor) (float64, bool) {
	for t != nil && g.static(t) && t.Dims().IsStatic() && t.Dims().Volume() == 1 {
		p, _ := t.Producer()
		if p == nil {
			return 0, false
		}
		switch p.Type() {
		case dsl.LayerConstant:
			w := p.(*dsl.ConstantLayer).Weights().Tensor()
			if w == nil || w.Len() != 1 || !w.DType().IsFloat() {
				return 0, false
			}
			return w.Float64At(0), true
		case dsl.LayerShuffle, dsl.LayerSqueeze, dsl.LayerUnsqueeze, dsl.LayerIdentity:
			t = p.Input(0)
		default:
			return 0, false
		}
	}
	return 0, false
}
