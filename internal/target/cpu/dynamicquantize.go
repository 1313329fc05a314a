package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerDynamicQuantize, runDynamicQuantize) }

func runDynamicQuantize(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	dq := l.(*dsl.DynamicQuantizeLayer)
	shape := in[0].Shape()
	block := dq.EffectiveBlockShape()
	sshape := make([]int64, len(shape))
	for i, b := range block {
		switch {
		case b == -1:
			sshape[i] = 1
		case shape[i]%b != 0:
			return nil, layerErr(l, diag.ShapeMismatch, "dimension %d is %d, not a multiple of the block size %d", i, shape[i], b)
		default:
			sshape[i] = shape[i] / b
		}
	}
	idx, err := quantScaleIndex(l, shape, sshape, -1, block)
	if err != nil {
		return nil, err
	}
	g := float32(1)
	if gt := quantOptIn(in, 1); gt != nil {
		g = float32(gt.Float64At(0))
		if !(g > 0) || math.IsInf(float64(g), 0) {
			return nil, layerErr(l, diag.OutOfRange, "the double-quantization scale must be positive and finite, got %g", g)
		}
	}
	qmax := float32(127)
	if dq.ToType() == tensor.FP8E4M3 {
		qmax = 448
	}
	x := in[0].AsFloat32()
	amax := make([]float32, tensor.Volume(sshape))
	for i, v := range x {
		if a := float32(math.Abs(float64(v))); a > amax[idx[i]] || a != a {
			amax[idx[i]] = a
		}
	}
	scales := tensor.New(dq.ScaleType(), sshape...)
	eff := make([]float32, len(amax))
	for i, a := range amax {
		scales.SetFloat64(int64(i), float64(a/qmax/g))
		eff[i] = float32(scales.Float64At(int64(i))) * g
	}
	out := tensor.New(dq.ToType(), shape...)
	for i, v := range x {
		s := eff[idx[i]]
		if s == 0 {
			continue // an all-zero block (or a scale that underflowed): zeros
		}
		out.SetFloat64(int64(i), quantRound(dq.ToType(), float64(v/s), 0))
	}
	return []*tensor.Tensor{out, scales}, nil
}
