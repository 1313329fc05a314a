package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerSoftMax, runSoftMax) }

func runSoftMax(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	shape := x.Shape()
	axis, err := dsl.SoftMaxAxis(l.(*dsl.SoftMaxLayer).Axes(), len(shape))
	if err != nil {
		return nil, layerErr(l, diag.InvalidNode, "%v", err)
	}
	outer, n, inner := softmaxSplit(shape, axis)
	src := x.AsFloat32()
	dst := make([]float32, len(src))
	parallelFor(outer*inner, max(1, 4096/max(n, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o, i := r/inner, r%inner
			base := o*n*inner + i
			softmaxRow(src, dst, base, inner, n)
		}
	})
	t, err := tensor.FromFloat32s(x.DType(), shape, dst)
	if err != nil {
		return nil, layerErr(l, diag.Internal, "%v", err)
	}
	return []*tensor.Tensor{t}, nil
}

// softmaxSplit views shape as [outer, n, inner] around axis.
func softmaxSplit(shape []int64, axis int) (outer, n, inner int) {
	outer, inner = 1, 1
	for i, d := range shape {
		switch {
		case i < axis:
			outer *= int(d)
		case i > axis:
			inner *= int(d)
		}
	}
	return outer, int(shape[axis]), inner
}

// softmaxRow computes a softmax over the n values src[base + j*stride]:
// subtracting the maximum keeps exp from overflowing, and the sum is
// accumulated in float64.
func softmaxRow(src, dst []float32, base, stride, n int) {
	if n == 0 {
		return
	}
	m := float32(math.Inf(-1))
	for j := 0; j < n; j++ {
		if v := src[base+j*stride]; v > m || v != v {
			m = v
		}
	}
	if math.IsInf(float64(m), -1) {
		m = 0 // every value is -inf: 0/0, so the row is NaN, like the formula
	}
	sum := 0.0
	for j := 0; j < n; j++ {
		e := math.Exp(float64(src[base+j*stride] - m))
		dst[base+j*stride] = float32(e)
		sum += e
	}
	inv := 1 / sum
	for j := 0; j < n; j++ {
		dst[base+j*stride] = float32(float64(dst[base+j*stride]) * inv)
	}
}
