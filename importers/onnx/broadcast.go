package onnx

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Shared helpers for op importers.

// unsqueezeTo prepends unit dims so t has rank r (ONNX's multidirectional
// broadcasting aligns trailing dims; TensorRT's elementwise layers need
// equal ranks).
func (c *nodeCtx) unsqueezeTo(t *dsl.Tensor, r int) *dsl.Tensor {
	have := t.Rank()
	if have >= r {
		return t
	}
	axes := make([]int64, r-have)
	for i := range axes {
		axes[i] = int64(i)
	}
	at, _ := tensor.FromInt64([]int64{int64(len(axes))}, axes)
	return c.Net().AddUnsqueeze(t, c.Constant(at)).Output(0)
}

// Broadcast brings tensors to a common rank for an elementwise layer.
func (c *nodeCtx) Broadcast(ts ...*dsl.Tensor) []*dsl.Tensor {
	r := 0
	for _, t := range ts {
		r = max(r, t.Rank())
	}
	out := make([]*dsl.Tensor, len(ts))
	for i, t := range ts {
		out[i] = c.unsqueezeTo(t, r)
	}
	return out
}

// outputs wraps layer outputs as an importer's result.
func outputs(l dsl.Layer) []*dsl.Tensor {
	out := make([]*dsl.Tensor, l.NbOutputs())
	for i := range out {
		out[i] = l.Output(i)
	}
	return out
}
