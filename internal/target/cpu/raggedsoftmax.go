package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerRaggedSoftMax, runRaggedSoftMax) }

func runRaggedSoftMax(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x, bounds := in[0], in[1]
	shape := x.Shape()
	bs := bounds.Shape()
	if bs[0] != shape[0] || bs[1] != shape[1] || bs[2] != 1 {
		return nil, layerErr(l, diag.ShapeMismatch, "at run time input is %v and bounds is %v; want bounds [%d,%d,1]", shape, bs, shape[0], shape[1])
	}
	rows, s := int(shape[0]*shape[1]), int(shape[2])
	lens := bounds.Int64Values()
	for r, n := range lens {
		if n < 0 || n > int64(s) {
			return nil, layerErr(l, diag.OutOfRange, "bounds[%d] is %d; sequence lengths must be in [0, %d]", r, n, s)
		}
	}
	src := x.AsFloat32()
	dst := make([]float32, len(src)) // padding stays 0
	for r := 0; r < rows; r++ {
		softmaxRow(src, dst, r*s, 1, int(lens[r]))
	}
	t, err := tensor.FromFloat32s(x.DType(), shape, dst)
	if err != nil {
		return nil, layerErr(l, diag.Internal, "%v", err)
	}
	return []*tensor.Tensor{t}, nil
}
