package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Helpers shared by the elementwise importers (ops_ew_*.go).

// ewScalar adds a constant holding v with type dt and rank r (every dim
// 1), so it broadcasts against any tensor of rank r in an elementwise
// layer. Integer types truncate v; Bool is v != 0.
func (c *nodeCtx) ewScalar(v float64, dt dsl.DataType, r int) *dsl.Tensor {
	shape := make([]int64, r)
	for i := range shape {
		shape[i] = 1
	}
	var t *tensor.Tensor
	var err error
	switch {
	case dt == tensor.Bool:
		t, err = tensor.FromBool(shape, []bool{v != 0})
	case dt.IsFloat():
		t, err = tensor.FromFloat64s(dt, shape, []float64{v})
	default:
		t, err = tensor.FromInt64s(dt, shape, []int64{int64(v)})
	}
	if err != nil {
		c.fail(c.Errorf(diag.InvalidNode, "constant %g of type %v: %v", v, dt, err))
		t, _ = tensor.FromFloat32(shape, []float32{float32(v)})
	}
	return c.Constant(t)
}

// scalarLike is ewScalar with x's type and rank.
func (c *nodeCtx) scalarLike(v float64, x *dsl.Tensor) *dsl.Tensor {
	return c.ewScalar(v, x.Type(), x.Rank())
}

// ewBinary adds an elementwise layer after bringing a and b to one rank
// (ONNX's multidirectional broadcasting).
func (c *nodeCtx) ewBinary(a, b *dsl.Tensor, op dsl.ElementWiseOperation) *dsl.Tensor {
	ab := c.Broadcast(a, b)
	return c.Net().AddElementWise(ab[0], ab[1], op).Output(0)
}

// ewUnary adds a unary layer.
func (c *nodeCtx) ewUnary(x *dsl.Tensor, op dsl.UnaryOperation) *dsl.Tensor {
	return c.Net().AddUnary(x, op).Output(0)
}

// ewCastTo casts x to dt, or returns x when it already has that type.
func (c *nodeCtx) ewCastTo(x *dsl.Tensor, dt dsl.DataType) *dsl.Tensor {
	if x.Type() == dt {
		return x
	}
	return c.Net().AddCast(x, dt).Output(0)
}

// ewActivation adds an activation layer with TensorRT's alpha and beta.
func (c *nodeCtx) ewActivation(x *dsl.Tensor, act dsl.ActivationType, alpha, beta float32) *dsl.Tensor {
	l := c.Net().AddActivation(x, act)
	l.SetAlpha(alpha)
	l.SetBeta(beta)
	return l.Output(0)
}

// ewIsFloat reports whether t holds a float type the unary and activation
// layers take.
func ewIsFloat(t *dsl.Tensor) bool {
	dt := t.Type()
	return dt == tensor.Float32 || dt == tensor.Float16 || dt == tensor.BFloat16
}

// one wraps a single tensor as an importer's result.
func ewOne(t *dsl.Tensor) []*dsl.Tensor { return []*dsl.Tensor{t} }

// ewBroadcast2 brings a binary op's inputs to one rank. Before opset 7,
// broadcast=1 with an axis attribute aligns b's dims with a's starting at
// axis (b is unsqueezed around them); without axis, or from opset 7 on,
// trailing dims align as in numpy.
func (c *nodeCtx) ewBroadcast2(a, b *dsl.Tensor) ([]*dsl.Tensor, error) {
	if c.opset >= 7 || c.AttrInt("broadcast", 0) == 0 || !c.HasAttr("axis") {
		return c.Broadcast(a, b), nil
	}
	ra, rb := a.Rank(), b.Rank()
	axis := c.AttrInt("axis", 0)
	if axis < 0 {
		axis += int64(ra)
	}
	if axis < 0 || axis+int64(rb) > int64(ra) {
		return nil, c.Errorf(diag.UnsupportedAttr, "axis %d does not place %q (rank %d) inside %q (rank %d)", c.AttrInt("axis", 0), b.Name(), rb, a.Name(), ra)
	}
	var axes []int64
	for i := int64(0); i < int64(ra); i++ {
		if i < axis || i >= axis+int64(rb) {
			axes = append(axes, i)
		}
	}
	if len(axes) == 0 {
		return []*dsl.Tensor{a, b}, nil
	}
	at, _ := tensor.FromInt64([]int64{int64(len(axes))}, axes)
	return []*dsl.Tensor{a, c.Net().AddUnsqueeze(b, c.Constant(at)).Output(0)}, nil
}

// ewRegister registers an importer whose first nIn inputs are required:
// a node that omits one gets an error instead of a nil tensor.
func ewRegister(info OpInfo, nIn int, fn importFunc) {
	register(info, func(c *nodeCtx) ([]*dsl.Tensor, error) {
		if err := c.Require(nIn); err != nil {
			return nil, err
		}
		return fn(c)
	})
}
