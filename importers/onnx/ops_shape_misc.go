package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Trilu, EyeLike, DepthToSpace, SpaceToDepth, ReverseSequence and CumSum.

func init() {
	const all = "all tensor types"
	register(OpInfo{Op: "Trilu", Since: 14, Types: all}, shReq(1, importTrilu))
	for _, since := range []int64{9, 22} {
		register(OpInfo{Op: "EyeLike", Since: since, Types: all}, shReq(1, importEyeLike))
	}
	for _, since := range []int64{1, 11, 13} {
		register(OpInfo{Op: "DepthToSpace", Since: since, Types: all}, shReq(1, importDepthToSpace))
	}
	for _, since := range []int64{1, 13} {
		register(OpInfo{Op: "SpaceToDepth", Since: since, Types: all}, shReq(1, importSpaceToDepth))
	}
	register(OpInfo{Op: "ReverseSequence", Since: 10, Types: all}, shReq(2, importReverseSequence))
	for _, since := range []int64{11, 14} {
		register(OpInfo{Op: "CumSum", Since: since, Types: "float32, float16, bfloat16, int32, int64 (double, uint32/64 widened)"}, shReq(2, importCumSum))
	}
}

// shTriluDiff is an [n, m] Int64 tensor holding col - row for the two
// innermost dims of x: a constant when they are static (and x is used
// elsewhere: fromShape false), else a Fill sized by x's run-time shape.
func (c *nodeCtx) shTriluDiff(x *dsl.Tensor, fromShape bool) *dsl.Tensor {
	r := x.Rank()
	d := x.Dims()
	n, m := d[r-2], d[r-1]
	if n >= 0 && m >= 0 && !fromShape {
		v := make([]int64, n*m)
		for i := int64(0); i < n; i++ {
			for j := int64(0); j < m; j++ {
				v[i*m+j] = j - i
			}
		}
		t, _ := tensor.FromInt64([]int64{n, m}, v)
		return c.Constant(t)
	}
	l := c.Net().AddFill(nil, dsl.FillLinspace, dsl.Int64)
	l.SetInput(0, c.shSlice1(c.shShapeOf(x), int64(r-2), 2))
	l.SetInput(1, c.shScalarI64(0))
	l.SetInput(2, c.shI64(-1, 1))
	return l.Output(0)
}

// importTrilu keeps the elements with col-row >= k (upper) or <= k
// (lower) and zeroes the others.
func importTrilu(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	if x.Rank() < 2 {
		return nil, c.Errorf(diag.InvalidNode, "Trilu needs rank >= 2, got dims %v", x.Dims())
	}
	k := c.shScalarI64(0)
	if c.HasInput(1) {
		k = c.shToI64(c.Input(1))
		if k.Rank() != 0 {
			k = c.shReshape(k, dsl.Dims{})
		}
	}
	diff := c.shTriluDiff(x, false)
	var drop *dsl.Tensor
	if c.AttrInt("upper", 1) != 0 {
		drop = c.ew(diff, k, dsl.ElementWiseLess)
	} else {
		drop = c.ew(diff, k, dsl.ElementWiseGreater)
	}
	return []*dsl.Tensor{c.shSelect(drop, c.shScalarOf(x.Type(), 0), x)}, nil
}

// importEyeLike puts ones on diagonal k of a 2-D tensor shaped like x.
func importEyeLike(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	if x.Rank() != 2 {
		return nil, c.Errorf(diag.InvalidNode, "EyeLike needs a 2-D input, got dims %v", x.Dims())
	}
	dt := x.Type()
	if c.HasAttr("dtype") {
		var err error
		if dt, err = DataTypeFromProto(int32(c.AttrInt("dtype", 0))); err != nil {
			return nil, c.Errorf(diag.CodeOf(err), "dtype: %v", err)
		}
	}
	eq := c.ew(c.shTriluDiff(x, true), c.shScalarI64(c.AttrInt("k", 0)), dsl.ElementWiseEqual)
	return []*dsl.Tensor{c.shSelect(eq, c.shScalarOf(dt, 1), c.shScalarOf(dt, 0))}, nil
}

// shSpaceDims returns the [1] Int64 tensors b, C, H, W of a 4-D x.
func (c *nodeCtx) shSpaceDims(x *dsl.Tensor) (b, ch, h, w *dsl.Tensor, err error) {
	if x.Rank() != 4 {
		return nil, nil, nil, nil, c.Errorf(diag.InvalidNode, "%s needs a 4-D input, got dims %v", c.Node().GetOpType(), x.Dims())
	}
	s := c.shShapeOf(x)
	return c.shSlice1(s, 0, 1), c.shSlice1(s, 1, 1), c.shSlice1(s, 2, 1), c.shSlice1(s, 3, 1), nil
}

// shSpaceShuffle reshapes x to shape1, permutes, and reshapes to shape2.
func (c *nodeCtx) shSpaceShuffle(x, shape1 *dsl.Tensor, perm dsl.Permutation, shape2 *dsl.Tensor) *dsl.Tensor {
	l := c.Net().AddShuffle(x)
	l.SetZeroIsPlaceholder(false)
	if v, ok := shape1.KnownValues(); ok {
		l.SetReshapeDimensions(dsl.Dims(v))
	} else {
		l.SetInput(1, shape1)
	}
	l.SetSecondTranspose(perm)
	return c.shReshapeTo(l.Output(0), shape2)
}

func importDepthToSpace(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	bs := c.AttrInt("blocksize", 0)
	if bs <= 0 {
		return nil, c.Errorf(diag.InvalidNode, "blocksize must be positive, got %d", bs)
	}
	b, ch, h, w, err := c.shSpaceDims(x)
	if err != nil {
		return nil, err
	}
	if d := x.Dims()[1]; d >= 0 && d%(bs*bs) != 0 {
		return nil, c.Errorf(diag.ShapeMismatch, "channels %d are not a multiple of blocksize² %d", d, bs*bs)
	}
	B := c.shI64(bs)
	cOut := c.ew(ch, c.shI64(bs*bs), dsl.ElementWiseFloorDiv)
	out := c.shConcat(b, cOut, c.ew(h, B, dsl.ElementWiseProd), c.ew(w, B, dsl.ElementWiseProd))
	switch mode := c.AttrString("mode", "DCR"); mode {
	case "DCR":
		return []*dsl.Tensor{c.shSpaceShuffle(x, c.shConcat(b, B, B, cOut, h, w), dsl.Permutation{0, 3, 4, 1, 5, 2}, out)}, nil
	case "CRD":
		return []*dsl.Tensor{c.shSpaceShuffle(x, c.shConcat(b, cOut, B, B, h, w), dsl.Permutation{0, 1, 4, 2, 5, 3}, out)}, nil
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "mode %q is not DCR or CRD", mode)
	}
}

func importSpaceToDepth(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	bs := c.AttrInt("blocksize", 0)
	if bs <= 0 {
		return nil, c.Errorf(diag.InvalidNode, "blocksize must be positive, got %d", bs)
	}
	b, ch, h, w, err := c.shSpaceDims(x)
	if err != nil {
		return nil, err
	}
	d := x.Dims()
	if (d[2] >= 0 && d[2]%bs != 0) || (d[3] >= 0 && d[3]%bs != 0) {
		return nil, c.Errorf(diag.ShapeMismatch, "spatial dims %v are not multiples of blocksize %d", d[2:], bs)
	}
	B := c.shI64(bs)
	h2, w2 := c.ew(h, B, dsl.ElementWiseFloorDiv), c.ew(w, B, dsl.ElementWiseFloorDiv)
	shape1 := c.shConcat(b, ch, h2, B, w2, B)
	out := c.shConcat(b, c.ew(ch, c.shI64(bs*bs), dsl.ElementWiseProd), h2, w2)
	return []*dsl.Tensor{c.shSpaceShuffle(x, shape1, dsl.Permutation{0, 3, 5, 1, 2, 4}, out)}, nil
}

func importReverseSequence(c *nodeCtx) ([]*dsl.Tensor, error) {
	x, lens := c.Input(0), c.Input(1)
	ba, ta := c.AttrInt("batch_axis", 1), c.AttrInt("time_axis", 0)
	if (ba != 0 && ba != 1) || (ta != 0 && ta != 1) || ba == ta {
		return nil, c.Errorf(diag.InvalidNode, "batch_axis %d and time_axis %d must be 0 and 1 in some order", ba, ta)
	}
	l := c.Net().AddReverseSequence(x, lens)
	l.SetBatchAxis(int(ba))
	l.SetSequenceAxis(int(ta))
	return outputs(l), nil
}

// importCumSum maps CumSum onto a Cumulative layer. A run-time axis is
// resolved by computing the sum along every axis and selecting the one
// the axis names (the rank is small).
func importCumSum(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	r := x.Rank()
	excl, rev := c.AttrInt("exclusive", 0) != 0, c.AttrInt("reverse", 0) != 0
	cum := func(a int) *dsl.Tensor {
		return c.Net().AddCumulative(x, c.shScalarI64(int64(a)), dsl.CumulativeSum, excl, rev).Output(0)
	}
	if r == 0 {
		return nil, c.Errorf(diag.InvalidNode, "CumSum needs rank >= 1")
	}
	if v, ok := c.ConstInts(1); ok {
		if len(v) != 1 {
			return nil, c.Errorf(diag.InvalidNode, "axis must hold one value, got %v", v)
		}
		a, err := c.shNormAxis(v[0], r, "axis")
		if err != nil {
			return nil, err
		}
		return []*dsl.Tensor{cum(a)}, nil
	}
	axis := c.shToI64(c.Input(1))
	if axis.Dims().Volume() != 1 {
		return nil, c.Errorf(diag.InvalidNode, "axis must hold one value, got dims %v", axis.Dims())
	}
	axis = c.shReshape(axis, dsl.Dims{})
	// The run-time axis must be in range; the assertion also checks it.
	lo := c.ew(axis, c.shScalarI64(int64(-r)), dsl.ElementWiseLess)
	hi := c.ew(axis, c.shScalarI64(int64(r-1)), dsl.ElementWiseGreater)
	c.Net().AddAssertion(c.shNot(c.ew(lo, hi, dsl.ElementWiseOr)), "CumSum axis is out of range for the input's rank")
	if r == 1 {
		return []*dsl.Tensor{cum(0)}, nil
	}
	axis = c.shNormAxesRT(axis, r)
	out := cum(r - 1)
	for a := r - 2; a >= 0; a-- {
		out = c.shSelect(c.ew(axis, c.shScalarI64(int64(a)), dsl.ElementWiseEqual), cum(a), out)
	}
	return []*dsl.Tensor{out}, nil
}
