package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Shape arithmetic for the shape-manipulation importers. ONNX feeds shapes,
// axes, starts and pads as tensors that may be computed at run time, so
// these helpers build small Int64 graphs (Shape, Slice, ElementWise,
// Select...). Where the values are known at build time the DSL folds them
// (Shape of static dims, Slice/Concat/ElementWise of known values), so the
// same graph gives static output dims when the model's shapes are static.

// shI64 is a 1-D Int64 constant.
func (c *nodeCtx) shI64(vals ...int64) *dsl.Tensor {
	t, _ := tensor.FromInt64([]int64{int64(len(vals))}, append([]int64{}, vals...))
	return c.Constant(t)
}

// shScalarI64 is a rank-0 Int64 constant.
func (c *nodeCtx) shScalarI64(v int64) *dsl.Tensor {
	t, _ := tensor.FromInt64(nil, []int64{v})
	return c.Constant(t)
}

// shScalarOf is a rank-0 constant of type dt holding v.
func (c *nodeCtx) shScalarOf(dt dsl.DataType, v float64) *dsl.Tensor {
	if dt == dsl.Bool || dt == dsl.UInt8 || dt == dsl.Int8 {
		t, _ := tensor.FromFloat64s(dsl.Int32, nil, []float64{v})
		return c.Net().AddCast(c.Constant(t), dt).Output(0)
	}
	t, err := tensor.FromFloat64s(dt, nil, []float64{v})
	if err != nil {
		c.fail(c.Errorf(diag.UnsupportedAttr, "cannot make a %v constant: %v", dt, err))
		t, _ = tensor.FromFloat64s(dsl.Float32, nil, []float64{v})
	}
	return c.Constant(t)
}

// shSelect picks a where cond else b, broadcasting ONNX-style.
func (c *nodeCtx) shSelect(cond, a, b *dsl.Tensor) *dsl.Tensor {
	t := c.Broadcast(cond, a, b)
	return c.Net().AddSelect(t[0], t[1], t[2]).Output(0)
}

// shNot negates a Bool tensor.
func (c *nodeCtx) shNot(t *dsl.Tensor) *dsl.Tensor {
	return c.Net().AddUnary(t, dsl.UnaryNot).Output(0)
}

// shToI64 casts an integer (or float) tensor to Int64 when it is not.
func (c *nodeCtx) shToI64(t *dsl.Tensor) *dsl.Tensor {
	if t.Type() == dsl.Int64 {
		return t
	}
	return c.Net().AddCast(t, dsl.Int64).Output(0)
}

// shShapeOf is the Int64 shape vector of t.
func (c *nodeCtx) shShapeOf(t *dsl.Tensor) *dsl.Tensor {
	return c.Net().AddShape(t).Output(0)
}

// shSlice1 takes n elements of a 1-D tensor from start.
func (c *nodeCtx) shSlice1(v *dsl.Tensor, start, n int64) *dsl.Tensor {
	return c.Net().AddSlice(v, dsl.Dims{start}, dsl.Dims{n}, dsl.Dims{1}).Output(0)
}

// shConcat joins 1-D tensors.
func (c *nodeCtx) shConcat(parts ...*dsl.Tensor) *dsl.Tensor {
	if len(parts) == 1 {
		return parts[0]
	}
	l := c.Net().AddConcatenation(parts)
	l.SetAxis(0)
	return l.Output(0)
}

// shReshape reshapes to static dims (0 means a zero-length dim here).
func (c *nodeCtx) shReshape(t *dsl.Tensor, d dsl.Dims) *dsl.Tensor {
	l := c.Net().AddShuffle(t)
	l.SetReshapeDimensions(d)
	l.SetZeroIsPlaceholder(false)
	return l.Output(0)
}

// shReshapeTo reshapes to a run-time shape vector (zeros are zero-length).
func (c *nodeCtx) shReshapeTo(t, shape *dsl.Tensor) *dsl.Tensor {
	if v, ok := shape.KnownValues(); ok {
		return c.shReshape(t, dsl.Dims(v))
	}
	l := c.Net().AddShuffle(t)
	l.SetInput(1, shape)
	l.SetZeroIsPlaceholder(false)
	return l.Output(0)
}

// shProd multiplies the elements of a 1-D Int64 tensor into a [1] tensor.
func (c *nodeCtx) shProd(v *dsl.Tensor) *dsl.Tensor {
	if vals, ok := v.KnownValues(); ok {
		p := int64(1)
		for _, x := range vals {
			p *= x
		}
		return c.shI64(p)
	}
	return c.Net().AddReduce(v, dsl.ReduceProd, 1, true).Output(0)
}

// shNormAxis turns an ONNX axis into [0, rank) or reports it.
func (c *nodeCtx) shNormAxis(axis int64, rank int, what string) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, c.Errorf(diag.InvalidNode, "%s %d is out of range for rank %d; want [%d, %d)", what, axis, rank, -rank, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// shNormAxes normalizes a list of axes and checks they are unique.
func (c *nodeCtx) shNormAxes(axes []int64, rank int, what string) ([]int, error) {
	seen := make([]bool, rank)
	out := make([]int, len(axes))
	for i, a := range axes {
		n, err := c.shNormAxis(a, rank, what)
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, c.Errorf(diag.InvalidNode, "%s %v lists axis %d twice", what, axes, n)
		}
		seen[n] = true
		out[i] = n
	}
	return out, nil
}

// shNormAxesRT normalizes run-time axes: a < 0 ? a + rank : a.
func (c *nodeCtx) shNormAxesRT(axes *dsl.Tensor, rank int) *dsl.Tensor {
	axes = c.shToI64(axes)
	neg := c.ew(axes, c.shScalarI64(0), dsl.ElementWiseLess)
	return c.shSelect(neg, c.ew(axes, c.shScalarI64(int64(rank)), dsl.ElementWiseSum), axes)
}

// shIota is the 1-D Int64 tensor [0, 1, ..., n-1].
func (c *nodeCtx) shIota(n int64) *dsl.Tensor {
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(i)
	}
	return c.shI64(v...)
}

// shRank1 checks that a shape-like input is 1-D with a length known at
// build time, and returns the length.
func (c *nodeCtx) shRank1(t *dsl.Tensor, what string) (int, error) {
	d := t.Dims()
	if len(d) != 1 {
		return 0, c.Errorf(diag.ShapeMismatch, "%s must be 1-D, got dims %v", what, d)
	}
	if d[0] < 0 {
		return 0, c.Errorf(diag.UnsupportedAttr, "%s has a length known only at run time; trtc needs it at build time", what)
	}
	return int(d[0]), nil
}

// shReq wraps an importer so a node missing one of its first n inputs is
// an InvalidNode error rather than a nil tensor.
func shReq(n int, fn importFunc) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		for i := 0; i < n; i++ {
			if !c.HasInput(i) {
				return nil, c.Errorf(diag.InvalidNode, "%s needs %d inputs; input %d is missing", c.Node().GetOpType(), n, i)
			}
		}
		return fn(c)
	}
}
