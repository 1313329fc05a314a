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
	return c.unsqueeze(t, axes...)
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

// ew adds an elementwise layer after bringing a and b to one rank.
func (c *nodeCtx) ew(a, b *dsl.Tensor, op dsl.ElementWiseOperation) *dsl.Tensor {
	ab := c.Broadcast(a, b)
	return c.Net().AddElementWise(ab[0], ab[1], op).Output(0)
}

// unsqueeze inserts unit dims at the given output axes.
func (c *nodeCtx) unsqueeze(t *dsl.Tensor, axes ...int64) *dsl.Tensor {
	at, _ := tensor.FromInt64([]int64{int64(len(axes))}, append([]int64{}, axes...))
	return c.Net().AddUnsqueeze(t, c.Constant(at)).Output(0)
}
