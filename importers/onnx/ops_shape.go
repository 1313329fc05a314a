package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Importers for the ops that read or rearrange shapes: Shape, Size,
// Reshape, Transpose, Flatten, Concat.

func init() {
	const all = "all tensor types"
	for _, since := range []int64{1, 13, 15, 19, 21} {
		register(OpInfo{Op: "Shape", Since: since, Types: all}, shReq(1, importShape))
	}
	for _, since := range []int64{1, 13, 19, 21} {
		register(OpInfo{Op: "Size", Since: since, Types: all}, shReq(1, importSize))
	}
	for _, since := range []int64{5, 13, 14, 19, 21} {
		register(OpInfo{Op: "Reshape", Since: since, Types: all, Restrictions: "the shape's length must be known at build time"}, shReq(2, importReshape))
	}
	for _, since := range []int64{1, 13, 21} {
		register(OpInfo{Op: "Transpose", Since: since, Types: all}, shReq(1, importTranspose))
	}
	for _, since := range []int64{1, 9, 11, 13, 21} {
		register(OpInfo{Op: "Flatten", Since: since, Types: all}, shReq(1, importFlatten))
	}
	for _, since := range []int64{4, 11, 13} {
		register(OpInfo{Op: "Concat", Since: since, Types: all}, importConcat)
	}
}

func importShape(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	shape := c.shShapeOf(x)
	r := int64(x.Rank())
	start, end := c.AttrInt("start", 0), c.AttrInt("end", r)
	clamp := func(v int64) int64 {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	start, end = clamp(start), clamp(end)
	if start == 0 && end == r {
		return []*dsl.Tensor{shape}, nil
	}
	return []*dsl.Tensor{c.shSlice1(shape, start, max(end-start, 0))}, nil
}

func importSize(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	if x.Rank() == 0 {
		return []*dsl.Tensor{c.shScalarI64(1)}, nil
	}
	return []*dsl.Tensor{c.shReshape(c.shProd(c.shShapeOf(x)), dsl.Dims{})}, nil
}

// importReshape maps Reshape onto a Shuffle: a 0 copies the input dim
// unless allowzero=1, one -1 is inferred. A shape known at build time
// becomes static reshape dims; otherwise it is Shuffle input 1.
func importReshape(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	zeroCopies := c.AttrInt("allowzero", 0) == 0
	l := c.Net().AddShuffle(x)
	l.SetZeroIsPlaceholder(zeroCopies)
	if v, ok := c.ConstInts(1); ok {
		l.SetReshapeDimensions(dsl.Dims(v))
		return outputs(l), nil
	}
	shape := c.Input(1)
	if shape == nil {
		return nil, c.Errorf(diag.InvalidNode, "Reshape needs its shape input")
	}
	if _, err := c.shRank1(shape, "the shape input"); err != nil {
		return nil, err
	}
	l.SetInput(1, c.shToI64(shape))
	return outputs(l), nil
}

func importTranspose(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	r := x.Rank()
	perm := c.AttrInts("perm", nil)
	p := make(dsl.Permutation, r)
	if perm == nil {
		for i := range p {
			p[i] = r - 1 - i
		}
	} else {
		if len(perm) != r {
			return nil, c.Errorf(diag.InvalidNode, "perm %v has %d entries but the input has rank %d", perm, len(perm), r)
		}
		seen := make([]bool, r)
		for i, v := range perm {
			n, err := c.shNormAxis(v, r, "perm entry")
			if err != nil {
				return nil, err
			}
			if seen[n] {
				return nil, c.Errorf(diag.InvalidNode, "perm %v lists axis %d twice", perm, n)
			}
			seen[n] = true
			p[i] = n
		}
	}
	l := c.Net().AddShuffle(x)
	l.SetFirstTranspose(p)
	return outputs(l), nil
}

// importFlatten reshapes to [prod(dims[:axis]), prod(dims[axis:])], with
// the products computed at run time where dims are dynamic.
func importFlatten(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	r := x.Rank()
	axis := c.AttrInt("axis", 1)
	if axis < -int64(r) || axis > int64(r) {
		return nil, c.Errorf(diag.InvalidNode, "axis %d is out of range for rank %d; want [%d, %d]", axis, r, -r, r)
	}
	if axis < 0 {
		axis += int64(r)
	}
	shape := c.shShapeOf(x)
	part := func(from, to int64) *dsl.Tensor {
		if from == to {
			return c.shI64(1)
		}
		return c.shProd(c.shSlice1(shape, from, to-from))
	}
	return []*dsl.Tensor{c.shReshapeTo(x, c.shConcat(part(0, axis), part(axis, int64(r))))}, nil
}

func importConcat(c *nodeCtx) ([]*dsl.Tensor, error) {
	if !c.HasAttr("axis") {
		return nil, c.Errorf(diag.InvalidNode, "Concat needs the axis attribute")
	}
	var ins []*dsl.Tensor
	for i := 0; i < c.NbInputs(); i++ {
		if c.HasInput(i) {
			ins = append(ins, c.Input(i))
		}
	}
	if len(ins) == 0 {
		return nil, c.Errorf(diag.InvalidNode, "Concat needs at least one input")
	}
	r := ins[0].Rank()
	axis, err := c.shNormAxis(c.AttrInt("axis", 0), r, "axis")
	if err != nil {
		return nil, err
	}
	if len(ins) == 1 {
		return outputs(c.Net().AddIdentity(ins[0])), nil
	}
	l := c.Net().AddConcatenation(ins)
	l.SetAxis(axis)
	return outputs(l), nil
}
