package cpu

import (
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerFill, runFill) }

func runFill(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	f := l.(*dsl.FillLayer)
	input := func(i int) *tensor.Tensor {
		if i < len(in) {
			return in[i]
		}
		return nil
	}
	shape := []int64(f.Dimensions())
	if s := input(0); s != nil {
		shape = s.Int64Values()
		for i, v := range shape {
			if v < 0 {
				return nil, layerErr(l, diag.OutOfRange, "the dims input %q holds %v at run time; dimension %d is negative", l.Input(0).Name(), shape, i)
			}
		}
	}
	if n := tensor.Volume(shape); n < 0 || n > 1<<40 {
		return nil, layerErr(l, diag.OutOfRange, "fill dims %v: too many elements (the limit is 2^40)", shape)
	}
	out := tensor.New(f.ToType(), shape...)
	a, b := input(1), input(2)
	if f.Operation() == dsl.FillLinspace {
		return fillLinspace(l, f, out, a, b)
	}
	alpha, beta := f.Alpha(), f.Beta()
	if a != nil {
		alpha, beta = a.Float64At(0), b.Float64At(0)
	}
	h := fnv.New64a()
	h.Write([]byte(l.Name()))
	rng := rand.New(rand.NewPCG(dsl.FillSeed, h.Sum64()))
	vals := make([]float64, out.Len())
	for i := range vals {
		if f.Operation() == dsl.FillRandomUniform {
			vals[i] = alpha + (beta-alpha)*rng.Float64()
		} else {
			vals[i] = alpha + float64(beta*boxMuller(rng.Uint64(), rng.Uint64()))
		}
	}
	res, err := tensor.FromFloat64s(f.ToType(), shape, vals)
	return []*tensor.Tensor{res}, err
}

// boxMuller is a standard normal value from two draws: element i of a
// RandomNormal takes draws 2i+1 and 2i+2 (so the CUDA target computes each
// element on its own, jumping the generator ahead), u1 in (0, 1] and u2 in
// [0, 1) from their low 53 bits, sqrt(-2 ln u1) cos(2 pi u2) with every
// product rounded on its own (no fused multiply-add, as on the GPU).
func boxMuller(x1, x2 uint64) float64 {
	const mant = 1<<53 - 1
	u1 := float64(float64(x1&mant+1) * 0x1p-53)
	u2 := float64(float64(x2&mant) * 0x1p-53)
	r := math.Sqrt(float64(-2 * math.Log(u1)))
	return float64(r * math.Cos(float64(2*math.Pi*u2)))
}

// fillLinspace computes alpha + sum_k beta[k]*index[k], in int64 when
// alpha and beta are integers (static int64 or Int32/Int64 inputs) and in
// float64 otherwise; integer outputs saturate on store.
func fillLinspace(l dsl.Layer, f *dsl.FillLayer, out, a, b *tensor.Tensor) ([]*tensor.Tensor, error) {
	shape := out.Shape()
	intMath := f.IsAlphaBetaInt64()
	alphaF, alphaI := f.Alpha(), f.AlphaInt64()
	betaF, betaI := []float64{f.Beta()}, []int64{f.BetaInt64()}
	if a != nil {
		intMath = a.DType().IsInteger()
		alphaF, alphaI = a.Float64At(0), a.Int64At(0)
		betaF, betaI = b.Float64s(), b.Int64Values()
		if len(betaF) != len(shape) {
			return nil, layerErr(l, diag.ShapeMismatch, "the Linspace delta %q has %d values at run time but the output has rank %d", l.Input(2).Name(), len(betaF), len(shape))
		}
	}
	idx := make([]int64, len(shape))
	for i := int64(0); i < out.Len(); i++ {
		if intMath {
			v := alphaI
			for k, j := range idx {
				v += betaI[k] * j
			}
			out.SetInt64(i, v)
		} else {
			v := alphaF
			for k, j := range idx {
				v += betaF[k] * float64(j)
			}
			out.SetFloat64(i, v)
		}
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return []*tensor.Tensor{out}, nil
}
