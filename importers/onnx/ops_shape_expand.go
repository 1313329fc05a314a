package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Expand, Tile, ConstantOfShape, Range and Pad: ops whose output shape is
// computed from a tensor. All of them are Slice layers (stride 0
// broadcasts, the wrap mode tiles, the fill/reflect/clamp modes pad) or a
// Fill, with the window computed on the host when known and in the
// network otherwise.

func init() {
	const all = "all tensor types"
	for _, since := range []int64{8, 13} {
		register(OpInfo{Op: "Expand", Since: since, Types: all}, shReq(2, importExpand))
	}
	for _, since := range []int64{6, 13} {
		register(OpInfo{Op: "Tile", Since: since, Types: all}, shReq(2, importTile))
	}
	for _, since := range []int64{9, 20, 21} {
		register(OpInfo{Op: "ConstantOfShape", Since: since, Types: "all tensor types but strings"}, shReq(1, importConstantOfShape))
	}
	register(OpInfo{Op: "Range", Since: 11, Types: "float32, int32, int64 (double, int16 widened)"}, shReq(3, importRange))
	for _, since := range []int64{2, 11, 13, 18, 19, 21} {
		register(OpInfo{Op: "Pad", Since: since, Types: all, Restrictions: "modes constant, reflect, edge, wrap"}, shReq(1, importPad))
	}
}

// shSlicePlanned adds a Slice over every axis of x; start, size and stride
// are [rank] Int64 vectors, static where their values are known and Slice
// inputs otherwise.
func (c *nodeCtx) shSlicePlanned(x, start, size, stride *dsl.Tensor, mode dsl.SampleMode) *dsl.SliceLayer {
	sv, ok1 := start.KnownValues()
	zv, ok2 := size.KnownValues()
	dv, ok3 := stride.KnownValues()
	l := c.Net().AddSlice(x, dsl.Dims(sv), dsl.Dims(zv), dsl.Dims(dv))
	if !ok1 {
		l.SetInput(1, start)
	}
	if !ok2 {
		l.SetInput(2, size)
	}
	if !ok3 {
		l.SetInput(3, stride)
	}
	l.SetMode(mode)
	return l
}

// importExpand broadcasts x to shape both ways: out = shape==1 ? dim : shape,
// read with stride 0 along the axes where x has 1.
func importExpand(c *nodeCtx) ([]*dsl.Tensor, error) {
	x, shape := c.Input(0), c.Input(1)
	n, err := c.shRank1(shape, "the shape input")
	if err != nil {
		return nil, err
	}
	shape = c.shToI64(shape)
	R := max(x.Rank(), n)
	xr := c.unsqueezeTo(x, R)
	if n < R {
		ones := make([]int64, R-n)
		for i := range ones {
			ones[i] = 1
		}
		shape = c.shConcat(c.shI64(ones...), shape)
	}
	xs := c.shShapeOf(xr)
	var out, stride *dsl.Tensor
	xv, okx := xs.KnownValues()
	sv, oks := shape.KnownValues()
	if okx && oks {
		ov, dv := make([]int64, R), make([]int64, R)
		for i := range ov {
			ov[i], dv[i] = sv[i], 1
			if sv[i] == 1 {
				ov[i] = xv[i]
			} else if xv[i] != 1 && xv[i] != sv[i] {
				return nil, c.Errorf(diag.ShapeMismatch, "cannot expand dims %v to %v: axis %d has %d and %d", xr.Dims(), sv, i, xv[i], sv[i])
			}
			if xv[i] == 1 {
				dv[i] = 0
			}
		}
		out, stride = c.shI64(ov...), c.shI64(dv...)
	} else {
		one := c.shScalarI64(1)
		out = c.shSelect(c.ew(shape, one, dsl.ElementWiseEqual), xs, shape)
		stride = c.shSelect(c.ew(xs, one, dsl.ElementWiseEqual), c.shScalarI64(0), one)
		if okx {
			dv := make([]int64, R)
			for i := range dv {
				if xv[i] != 1 {
					dv[i] = 1
				}
			}
			stride = c.shI64(dv...)
		}
	}
	return outputs(c.shSlicePlanned(xr, c.shI64(make([]int64, R)...), out, stride, dsl.SampleStrictBounds)), nil
}

// importTile reads x with the wrap mode over dims*repeats.
func importTile(c *nodeCtx) ([]*dsl.Tensor, error) {
	x, rep := c.Input(0), c.Input(1)
	r := x.Rank()
	n, err := c.shRank1(rep, "repeats")
	if err != nil {
		return nil, err
	}
	if n != r {
		return nil, c.Errorf(diag.InvalidNode, "repeats has %d entries but the input has rank %d", n, r)
	}
	size := c.ew(c.shShapeOf(x), c.shToI64(rep), dsl.ElementWiseProd)
	ones := make([]int64, r)
	for i := range ones {
		ones[i] = 1
	}
	return outputs(c.shSlicePlanned(x, c.shI64(make([]int64, r)...), size, c.shI64(ones...), dsl.SampleWrap)), nil
}

// importConstantOfShape broadcasts the one-element value to the shape.
func importConstantOfShape(c *nodeCtx) ([]*dsl.Tensor, error) {
	val := c.AttrTensor("value")
	if val == nil {
		val, _ = tensor.FromFloat32(nil, []float32{0})
	}
	if val.Len() != 1 {
		return nil, c.Errorf(diag.InvalidNode, "value must hold one element, got shape %v", val.Shape())
	}
	shape := c.shToI64(c.Input(0))
	n, err := c.shRank1(shape, "the shape input")
	if err != nil {
		return nil, err
	}
	ones := make([]int64, n)
	for i := range ones {
		ones[i] = 1
	}
	v, err := val.Reshape(ones...)
	if err != nil {
		return nil, c.Errorf(diag.InvalidNode, "value: %v", err)
	}
	cv := c.Constant(v)
	if n == 0 {
		return []*dsl.Tensor{cv}, nil
	}
	return outputs(c.shSlicePlanned(cv, c.shI64(make([]int64, n)...), shape, c.shI64(make([]int64, n)...), dsl.SampleStrictBounds)), nil
}

// importRange is a constant when its inputs are known (folding computes
// it), else a Fill linspace of ceil((limit-start)/delta) elements.
func importRange(c *nodeCtx) ([]*dsl.Tensor, error) {
	start, limit, delta := c.Input(0), c.Input(1), c.Input(2)
	dt := start.Type()
	if limit.Type() != dt || delta.Type() != dt {
		return nil, c.Errorf(diag.TypeMismatch, "start, limit and delta have types %v, %v, %v; they must agree", dt, limit.Type(), delta.Type())
	}
	if dt != dsl.Float32 && dt != dsl.Int32 && dt != dsl.Int64 {
		return nil, c.Errorf(diag.UnsupportedAttr, "Range of %v is not supported (float32, int32, int64)", dt)
	}
	for _, t := range []*dsl.Tensor{start, limit, delta} {
		if t.Dims().Volume() != 1 {
			return nil, c.Errorf(diag.InvalidNode, "start, limit and delta must be scalars, got dims %v", t.Dims())
		}
	}
	scalar := func(t *dsl.Tensor) *dsl.Tensor {
		if t.Rank() == 0 {
			return t
		}
		return c.shReshape(t, dsl.Dims{})
	}
	start, limit, delta = scalar(start), scalar(limit), scalar(delta)
	var count *dsl.Tensor
	if dt == dsl.Float32 {
		q := c.ew(c.ew(limit, start, dsl.ElementWiseSub), delta, dsl.ElementWiseDiv)
		count = c.Net().AddCast(c.Net().AddUnary(q, dsl.UnaryCeil).Output(0), dsl.Int64).Output(0)
	} else {
		fl := c.ew(c.ew(start, limit, dsl.ElementWiseSub), delta, dsl.ElementWiseFloorDiv)
		count = c.shToI64(c.ew(c.shScalarOf(dt, 0), fl, dsl.ElementWiseSub))
	}
	count = c.shReshape(c.ew(count, c.shScalarI64(0), dsl.ElementWiseMax), dsl.Dims{1})
	l := c.Net().AddFill(nil, dsl.FillLinspace, dt)
	l.SetInput(0, count)
	l.SetInput(1, start)
	l.SetInput(2, c.shReshape(delta, dsl.Dims{1}))
	return outputs(l), nil
}

var shPadModes = map[string]dsl.SampleMode{
	"constant": dsl.SampleFill, "reflect": dsl.SampleReflect, "edge": dsl.SampleClamp, "wrap": dsl.SampleWrap,
}

// importPad reads x from -pre with size dim+pre+post under the mode's
// sampling; negative pads crop.
func importPad(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	r := x.Rank()
	modeName := c.AttrString("mode", "constant")
	mode, ok := shPadModes[modeName]
	if !ok || (modeName == "wrap" && c.Opset() < 19) {
		return nil, c.Errorf(diag.UnsupportedAttr, "mode %q is not supported (constant, reflect, edge; wrap from opset 19)", modeName)
	}
	var pads *dsl.Tensor
	if c.Opset() < 11 {
		p := c.AttrInts("pads", nil)
		if p == nil {
			return nil, c.Errorf(diag.InvalidNode, "Pad needs the pads attribute")
		}
		pads = c.shI64(p...)
	} else {
		if !c.HasInput(1) {
			return nil, c.Errorf(diag.InvalidNode, "Pad needs the pads input")
		}
		pads = c.shToI64(c.Input(1))
	}
	np, err := c.shRank1(pads, "pads")
	if err != nil {
		return nil, err
	}
	// axes: every axis, or input 3 (opset 18).
	var axes *dsl.Tensor
	k := r
	if c.Opset() >= 18 && c.HasInput(3) {
		axes = c.Input(3)
		if k, err = c.shRank1(axes, "axes"); err != nil {
			return nil, err
		}
		if v, ok := c.ConstInts(3); ok {
			norm, err := c.shNormAxes(v, r, "axes")
			if err != nil {
				return nil, err
			}
			axes = c.shI64(shIntsToDims(norm)...)
		} else {
			axes = c.shNormAxesRT(axes, r)
		}
	}
	if np != 2*k {
		return nil, c.Errorf(diag.InvalidNode, "pads has %d entries; want 2 per padded axis (%d)", np, 2*k)
	}
	pre, post := c.shSlice1(pads, 0, int64(k)), c.shSlice1(pads, int64(k), int64(k))
	dims := c.shShapeOf(x)
	if axes != nil {
		dims = c.Net().AddGather(dims, axes, 0).Output(0)
	}
	start := c.ew(c.shI64(0), pre, dsl.ElementWiseSub)
	size := c.ew(c.ew(dims, pre, dsl.ElementWiseSum), post, dsl.ElementWiseSum)
	ones := make([]int64, k)
	for i := range ones {
		ones[i] = 1
	}
	var l *dsl.SliceLayer
	if k == 0 {
		return outputs(c.Net().AddIdentity(x)), nil
	}
	l = c.shSlicePlanned(x, start, size, c.shI64(ones...), mode)
	if axes != nil {
		if v, ok := axes.KnownValues(); ok {
			l.SetAxes(dsl.Dims(v))
		} else {
			l.SetInput(5, axes)
		}
	}
	if mode == dsl.SampleFill {
		if fill := c.shPadValue(x); fill != nil {
			l.SetInput(4, fill)
		}
	}
	return outputs(l), nil
}

// shPadValue is the constant-mode fill value as a scalar of x's type, or nil
// for 0.
func (c *nodeCtx) shPadValue(x *dsl.Tensor) *dsl.Tensor {
	if c.Opset() < 11 {
		v := c.AttrFloat("value", 0)
		if v == 0 {
			return nil
		}
		return c.shScalarOf(x.Type(), float64(v))
	}
	if !c.HasInput(2) {
		return nil
	}
	if v, ok := c.ConstFloats(2); ok && len(v) == 1 && v[0] == 0 && !math.Signbit(v[0]) {
		return nil
	}
	f := c.Input(2)
	if f.Rank() != 0 {
		f = c.shReshape(f, dsl.Dims{})
	}
	if f.Type() != x.Type() {
		f = c.Net().AddCast(f, x.Type()).Output(0)
	}
	return f
}
