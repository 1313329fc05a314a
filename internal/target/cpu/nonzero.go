package cpu

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerNonZero, runNonZero) }

func runNonZero(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	shape := x.Shape()
	var pos []int64 // flat positions of the non-zero elements, in order
	n := x.Len()
	isFloat := x.DType().IsFloat()
	for i := int64(0); i < n; i++ {
		if isFloat && x.Float64At(i) != 0 || !isFloat && x.Int64At(i) != 0 {
			pos = append(pos, i)
		}
	}
	m, cnt := int64(len(shape)), int64(len(pos))
	vals := make([]int64, m*cnt)
	st := strides(shape)
	for j, p := range pos {
		for d := range shape {
			vals[int64(d)*cnt+int64(j)] = p / st[d] % shape[d]
		}
	}
	out, err := tensor.FromInt64s(l.(*dsl.NonZeroLayer).IndicesType(), []int64{m, cnt}, vals)
	if err != nil {
		return nil, err
	}
	return []*tensor.Tensor{out}, nil
}
