package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Helpers shared by the neural-network op importers (ops_nn_*.go).

// nnInt64Const adds a 1-D Int64 constant.
func (c *nodeCtx) nnInt64Const(v ...int64) *dsl.Tensor {
	t, _ := tensor.FromInt64([]int64{int64(len(v))}, append([]int64{}, v...))
	return c.Constant(t)
}

// nnSqueeze removes the given unit dims.
func (c *nodeCtx) nnSqueeze(t *dsl.Tensor, axes ...int64) *dsl.Tensor {
	return c.Net().AddSqueeze(t, c.nnInt64Const(axes...)).Output(0)
}

// nnUnary adds a unary layer.
func (c *nodeCtx) nnUnary(t *dsl.Tensor, op dsl.UnaryOperation) *dsl.Tensor {
	return c.Net().AddUnary(t, op).Output(0)
}

// nnAxis normalizes an ONNX axis attribute against rank r.
func (c *nodeCtx) nnAxis(name string, axis int64, r int) (int, error) {
	if axis < -int64(r) || axis >= int64(r) {
		return 0, c.Errorf(diag.UnsupportedAttr, "attribute %s=%d is out of range for an input of rank %d", name, axis, r)
	}
	if axis < 0 {
		axis += int64(r)
	}
	return int(axis), nil
}

// nnReshape reshapes t to dims (0 copies the input dim, -1 is inferred).
func (c *nodeCtx) nnReshape(t *dsl.Tensor, dims ...int64) *dsl.Tensor {
	s := c.Net().AddShuffle(t)
	s.SetReshapeDimensions(append(dsl.Dims{}, dims...)) // no dims: a scalar
	return s.Output(0)
}

// nnReshapeLike reshapes t to the run-time shape of like.
func (c *nodeCtx) nnReshapeLike(t, like *dsl.Tensor) *dsl.Tensor {
	if d := like.Dims(); d.IsStatic() {
		return c.nnReshape(t, d...)
	}
	s := c.Net().AddShuffle(t)
	s.SetInput(1, c.Net().AddShape(like).Output(0))
	return s.Output(0)
}

// nnFlatten2D reshapes t to 2-D [prod(dims[:axis]), prod(dims[axis:])],
// the coercion of the opset < 13 Softmax family.
func (c *nodeCtx) nnFlatten2D(t *dsl.Tensor, axis int) *dsl.Tensor {
	d := t.Dims()
	lead, leadKnown := int64(1), true
	for _, v := range d[:axis] {
		if v < 0 {
			leadKnown = false
		}
		lead *= v
	}
	trail, trailKnown := int64(1), true
	for _, v := range d[axis:] {
		if v < 0 {
			trailKnown = false
		}
		trail *= v
	}
	switch {
	case leadKnown:
		return c.nnReshape(t, lead, -1)
	case trailKnown:
		return c.nnReshape(t, -1, trail)
	}
	// Both sides dynamic: compute the shape at run time.
	shape := c.Net().AddShape(t).Output(0)
	r := int64(len(d))
	part := func(start, size int64) *dsl.Tensor {
		if size == 0 {
			return c.nnInt64Const(1)
		}
		sl := c.Net().AddSlice(shape, dsl.Dims{start}, dsl.Dims{size}, dsl.Dims{1}).Output(0)
		return c.Net().AddReduce(sl, dsl.ReduceProd, 1, true).Output(0)
	}
	cat := c.Net().AddConcatenation([]*dsl.Tensor{part(0, int64(axis)), part(int64(axis), r-int64(axis))}).Output(0)
	s := c.Net().AddShuffle(t)
	s.SetInput(1, cat)
	return s.Output(0)
}

// nnIsFloat reports whether dt is a float type the NN layers take.
func nnIsFloat(dt dsl.DataType) bool {
	return dt == dsl.Float32 || dt == dsl.Float16 || dt == dsl.BFloat16
}

// nnCheckFloat rejects non-float inputs with a message naming the op.
func (c *nodeCtx) nnCheckFloat(t *dsl.Tensor) error {
	if t != nil && !nnIsFloat(t.Type()) {
		return c.Errorf(diag.TypeMismatch, "%s input is %v; only float32, float16 and bfloat16 are supported", c.node.GetOpType(), t.Type())
	}
	return nil
}

// nnPadFill pads the trailing len(pre) dims of t with value v (pre before,
// post after) through a fill-mode Slice; those dims must be static.
func (c *nodeCtx) nnPadFill(t *dsl.Tensor, pre, post []int64, v float64) (*dsl.Tensor, error) {
	d := t.Dims()
	n := len(pre)
	first := len(d) - n
	start, size, stride, axes := make(dsl.Dims, n), make(dsl.Dims, n), make(dsl.Dims, n), make(dsl.Dims, n)
	for i := range n {
		if d[first+i] < 0 {
			return nil, c.Errorf(diag.UnsupportedAttr, "%s needs static spatial dims here; the input has %v", c.node.GetOpType(), d)
		}
		start[i], size[i], stride[i], axes[i] = -pre[i], d[first+i]+pre[i]+post[i], 1, int64(first+i)
	}
	l := c.Net().AddSlice(t, start, size, stride)
	l.SetAxes(axes)
	l.SetMode(dsl.SampleFill)
	if v != 0 {
		l.SetInput(4, c.nnScalar(t.Type(), v))
	}
	return l.Output(0), nil
}

// nnScalar adds a rank-0 constant of type dt.
func (c *nodeCtx) nnScalar(dt dsl.DataType, v float64) *dsl.Tensor {
	h, err := tensor.FromFloat64s(dt, nil, []float64{v})
	if err != nil {
		c.fail(c.Errorf(diag.TypeMismatch, "constant %g of type %v: %v", v, dt, err))
		h, _ = tensor.FromFloat32(nil, []float32{float32(v)})
	}
	return c.Constant(h)
}
