package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() {
	register(dsl.LayerSqueeze, runSqueeze)
	register(dsl.LayerUnsqueeze, runUnsqueeze)
}

func runSqueeze(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	axes, err := dsl.SqueezeNormAxes(in[1].Int64Values(), x.Rank())
	if err != nil {
		return nil, layerErr(l, diag.InvalidNode, "at run time, axes: %v", err)
	}
	for _, a := range axes {
		if x.Dim(a) != 1 {
			return nil, layerErr(l, diag.ShapeMismatch, "at run time, cannot squeeze axis %d of shape %v: its dim is %d, not 1", a, x.Shape(), x.Dim(a))
		}
	}
	return []*tensor.Tensor{datamoveReshaped(x, dsl.SqueezeDims(x.Shape(), axes))}, nil
}

func runUnsqueeze(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	v := in[1].Int64Values()
	axes, err := dsl.SqueezeNormAxes(v, x.Rank()+len(v))
	if err != nil {
		return nil, layerErr(l, diag.InvalidNode, "at run time, axes: %v", err)
	}
	return []*tensor.Tensor{datamoveReshaped(x, dsl.UnsqueezeDims(x.Shape(), axes))}, nil
}
