package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

func init() {
	const types = "float32, float16, bfloat16, int32, int64"
	for _, since := range []int64{1, 10, 11} {
		register(OpInfo{Op: "TopK", Since: since, Types: types,
			Restrictions: "the axis must be one of the last four; k <= 3840; results are always sorted"}, importTopK)
	}
	for _, op := range []string{"ArgMax", "ArgMin"} {
		for _, since := range []int64{1, 11, 12, 13} {
			register(OpInfo{Op: op, Since: since, Types: types,
				Restrictions: "the axis must be one of the last four; select_last_index needs a static axis dim"}, importArgMinMax(op == "ArgMax"))
		}
	}
}

// importTopK: k is an attribute before opset 10 and an input after; a k
// known at import time is static, otherwise it feeds the layer's k input.
func importTopK(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.nnRequire(1); err != nil {
		return nil, err
	}
	x := c.Input(0)
	r := x.Rank()
	axis, err := c.nnAxis("axis", c.AttrInt("axis", -1), r)
	if err != nil {
		return nil, err
	}
	op := dsl.TopKMax
	if c.AttrInt("largest", 1) == 0 {
		op = dsl.TopKMin
	}
	var l *dsl.TopKLayer
	if c.opset >= 10 && !c.HasInput(1) {
		return nil, c.Errorf(diag.InvalidNode, "TopK needs input 1 (K) from opset 10")
	}
	if c.opset < 10 {
		l = c.Net().AddTopK(x, op, int(c.AttrInt("k", 0)), 1<<uint(axis))
	} else if k, ok := c.ConstInts(1); ok {
		if len(k) != 1 {
			return nil, c.Errorf(diag.ShapeMismatch, "input K has %d values; want 1", len(k))
		}
		l = c.Net().AddTopK(x, op, int(k[0]), 1<<uint(axis))
	} else {
		l = c.Net().AddTopK(x, op, 1, 1<<uint(axis))
		kt := c.nnReshape(c.Input(1))
		if kt.Type() != dsl.Int32 {
			kt = c.Net().AddCast(kt, dsl.Int32).Output(0)
		}
		l.SetInput(1, kt)
	}
	if c.err != nil {
		return nil, c.err
	}
	l.SetIndicesType(dsl.Int64)
	return outputs(l), nil
}

// importArgMinMax takes TopK's index for k=1. For select_last_index the
// axis is reversed first and the index mirrored back.
func importArgMinMax(isMax bool) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		if err := c.nnRequire(1); err != nil {
			return nil, err
		}
		x := c.Input(0)
		r := x.Rank()
		if r == 0 {
			return nil, c.Errorf(diag.ShapeMismatch, "%s input is a scalar; it needs rank >= 1", c.node.GetOpType())
		}
		axis, err := c.nnAxis("axis", c.AttrInt("axis", 0), r)
		if err != nil {
			return nil, err
		}
		keep := c.AttrInt("keepdims", 1) != 0
		last := c.AttrInt("select_last_index", 0) != 0
		op := dsl.TopKMin
		if isMax {
			op = dsl.TopKMax
		}
		n := x.Dims()[axis]
		if last {
			if n < 0 {
				return nil, c.Errorf(diag.UnsupportedAttr, "select_last_index=1 needs a static dim %d; the input has %v", axis, x.Dims())
			}
			sl := c.Net().AddSlice(x, dsl.Dims{n - 1}, dsl.Dims{n}, dsl.Dims{-1})
			sl.SetAxes(dsl.Dims{int64(axis)})
			x = sl.Output(0)
		}
		l := c.Net().AddTopK(x, op, 1, 1<<uint(axis))
		l.SetIndicesType(dsl.Int64)
		idx := l.Output(1)
		if last {
			idx = c.nnEW(c.nnInt64Const(n-1), idx, dsl.ElementWiseSub)
		}
		if !keep {
			idx = c.nnSqueeze(idx, int64(axis))
		}
		return []*dsl.Tensor{idx}, nil
	}
}
