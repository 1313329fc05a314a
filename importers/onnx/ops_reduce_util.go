package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Small layer-building helpers shared by the reduce, loss and signal
// importers (prefixed red so they do not collide with other groups').

// redInts adds a 1-D Int64 constant.
func redInts(c *nodeCtx, vals ...int64) *dsl.Tensor {
	t, _ := tensor.FromInt64([]int64{int64(len(vals))}, append([]int64{}, vals...))
	return c.Constant(t)
}

// redScalar adds a constant of type dt holding v, with rank unit dims so it
// broadcasts against a rank-rank tensor.
func redScalar(c *nodeCtx, dt dsl.DataType, v float64, rank int) *dsl.Tensor {
	shape := make([]int64, rank)
	for i := range shape {
		shape[i] = 1
	}
	var t *tensor.Tensor
	if dt.IsFloat() {
		t, _ = tensor.FromFloat64s(dt, shape, []float64{v})
	} else {
		t, _ = tensor.FromInt64s(dt, shape, []int64{int64(v)})
	}
	return c.Constant(t)
}

// redFloats adds a constant of type dt with the given shape and values.
func redFloats(c *nodeCtx, dt dsl.DataType, shape []int64, vals []float64) *dsl.Tensor {
	t, err := tensor.FromFloat64s(dt, shape, vals)
	if err != nil {
		c.fail(c.Errorf(diag.Internal, "constant: %v", err))
		return c.Net().Errorf(diag.Internal, "%v", err)
	}
	return c.Constant(t)
}

// redEW applies a binary op, bringing both inputs to one rank first.
func redEW(c *nodeCtx, a, b *dsl.Tensor, op dsl.ElementWiseOperation) *dsl.Tensor {
	ab := c.Broadcast(a, b)
	return c.Net().AddElementWise(ab[0], ab[1], op).Output(0)
}

// redUnary applies a unary op.
func redUnary(c *nodeCtx, x *dsl.Tensor, op dsl.UnaryOperation) *dsl.Tensor {
	return c.Net().AddUnary(x, op).Output(0)
}

// redCast casts x to dt (no layer when x already is dt).
func redCast(c *nodeCtx, x *dsl.Tensor, dt dsl.DataType) *dsl.Tensor {
	if x.Type() == dt {
		return x
	}
	return c.Net().AddCast(x, dt).Output(0)
}

// redSelect picks then where cond holds, else otherwise (ranks aligned).
func redSelect(c *nodeCtx, cond, then, otherwise *dsl.Tensor) *dsl.Tensor {
	t := c.Broadcast(cond, then, otherwise)
	return c.Net().AddSelect(t[0], t[1], t[2]).Output(0)
}

// redReshape reshapes x to static dims (0 is a real zero, -1 inferred).
func redReshape(c *nodeCtx, x *dsl.Tensor, dims ...int64) *dsl.Tensor {
	l := c.Net().AddShuffle(x)
	l.SetZeroIsPlaceholder(false)
	l.SetReshapeDimensions(dsl.Dims(dims))
	return l.Output(0)
}

// redSqueeze removes the given unit axes (none: x itself).
func redSqueeze(c *nodeCtx, x *dsl.Tensor, axes []int64) *dsl.Tensor {
	if len(axes) == 0 {
		return x
	}
	return c.Net().AddSqueeze(x, redInts(c, axes...)).Output(0)
}

// redUnsqueeze inserts unit axes (none: x itself).
func redUnsqueeze(c *nodeCtx, x *dsl.Tensor, axes ...int64) *dsl.Tensor {
	if len(axes) == 0 {
		return x
	}
	return c.Net().AddUnsqueeze(x, redInts(c, axes...)).Output(0)
}

// redAxis normalizes an ONNX axis in [-rank, rank) to [0, rank).
func redAxis(c *nodeCtx, what string, axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, c.Errorf(diag.InvalidNode, "%s %d is out of range for rank %d (valid: [%d, %d))", what, axis, rank, -rank, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// redNeed checks that the node lists the required inputs.
func redNeed(c *nodeCtx, inputs ...int) error {
	for _, i := range inputs {
		if !c.HasInput(i) {
			return c.Errorf(diag.InvalidNode, "%s needs input %d, which the node does not give", c.node.GetOpType(), i)
		}
	}
	return nil
}
