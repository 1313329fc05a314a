package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() {
	const types = "float32, float16, bfloat16"
	for _, since := range []int64{1, 11, 13} {
		register(OpInfo{Op: "Softmax", Since: since, Types: types}, importSoftmaxFamily(nnSoftmax))
		register(OpInfo{Op: "LogSoftmax", Since: since, Types: types}, importSoftmaxFamily(nnLogSoftmax))
		register(OpInfo{Op: "Hardmax", Since: since, Types: types}, importSoftmaxFamily(nnHardmax))
	}
}

type nnSoftmaxKind int

const (
	nnSoftmax nnSoftmaxKind = iota
	nnLogSoftmax
	nnHardmax
)

// importSoftmaxFamily handles the axis rules: before opset 13 the input
// is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])] (default axis
// 1) and the op runs along the second dim; from 13 it runs along one axis
// (default -1).
func importSoftmaxFamily(kind nnSoftmaxKind) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		if err := c.Require(1); err != nil {
			return nil, err
		}
		x := c.Input(0)
		if err := c.nnCheckFloat(x); err != nil {
			return nil, err
		}
		r := x.Rank()
		if r == 0 {
			return nil, c.Errorf(diag.ShapeMismatch, "%s input is a scalar; it needs rank >= 1", c.node.GetOpType())
		}
		def := int64(-1)
		if c.opset < 13 {
			def = 1
		}
		axis, err := c.nnAxis("axis", c.AttrInt("axis", def), r)
		if err != nil {
			return nil, err
		}
		if c.opset >= 13 || axis == r-1 {
			return []*dsl.Tensor{c.nnSoftmaxAxis(x, axis, kind)}, nil
		}
		// Coerce to 2-D, but only reshape when the axis is not already
		// the whole trailing part.
		flat := c.nnFlatten2D(x, axis)
		y := c.nnSoftmaxAxis(flat, 1, kind)
		return []*dsl.Tensor{c.nnReshapeLike(y, x)}, nil
	}
}

func (c *nodeCtx) nnSoftmaxAxis(x *dsl.Tensor, axis int, kind nnSoftmaxKind) *dsl.Tensor {
	switch kind {
	case nnLogSoftmax:
		// x - max - log(sum(exp(x - max))), stable for large inputs.
		m := c.Net().AddReduce(x, dsl.ReduceMax, 1<<uint(axis), true).Output(0)
		d := c.ew(x, m, dsl.ElementWiseSub)
		s := c.Net().AddReduce(c.nnUnary(d, dsl.UnaryExp), dsl.ReduceSum, 1<<uint(axis), true).Output(0)
		return c.ew(d, c.nnUnary(s, dsl.UnaryLog), dsl.ElementWiseSub)
	case nnHardmax:
		// One-hot of the first maximum along the axis.
		_, first := c.nnTopK(x, dsl.TopKMax, 1, nil, axis)
		idx := c.nnSqueeze(first, int64(axis))
		vals, _ := tensor.FromFloat64s(x.Type(), []int64{2}, []float64{0, 1})
		var depth *dsl.Tensor
		if n := x.Dims()[axis]; n >= 0 {
			dt, _ := tensor.FromInt64(nil, []int64{n})
			depth = c.Constant(dt)
		} else {
			sh := c.Net().AddShape(x).Output(0)
			depth = c.nnReshape(c.Net().AddSlice(sh, dsl.Dims{int64(axis)}, dsl.Dims{1}, dsl.Dims{1}).Output(0))
		}
		return c.Net().AddOneHot(idx, c.Constant(vals), depth, axis).Output(0)
	}
	l := c.Net().AddSoftMax(x)
	l.SetAxes(1 << uint(axis))
	return l.Output(0)
}
