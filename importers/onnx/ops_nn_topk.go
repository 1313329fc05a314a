package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

func init() {
	const types = "float32, float16, bfloat16, int32, int64"
	for _, since := range []int64{1, 10, 11} {
		register(OpInfo{Op: "TopK", Since: since, Types: types,
			Restrictions: "k <= 3840; results are always sorted"}, importTopK)
	}
	for _, op := range []string{"ArgMax", "ArgMin"} {
		for _, since := range []int64{1, 11, 12, 13} {
			register(OpInfo{Op: op, Since: since, Types: types,
				Restrictions: "select_last_index needs a static axis dim"}, importArgMinMax(op == "ArgMax"))
		}
	}
}

// importTopK: k is an attribute before opset 10 and an input after; a k
// known at import time is static, otherwise it feeds the layer's k input.
func importTopK(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(1); err != nil {
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
	if c.opset >= 10 && !c.HasInput(1) {
		return nil, c.Errorf(diag.InvalidNode, "TopK needs input 1 (K) from opset 10")
	}
	k, kt := 1, (*dsl.Tensor)(nil)
	if c.opset < 10 {
		k = int(c.AttrInt("k", 0))
	} else if kv, ok := c.ConstInts(1); ok {
		if len(kv) != 1 {
			return nil, c.Errorf(diag.ShapeMismatch, "input K has %d values; want 1", len(kv))
		}
		k = int(kv[0])
	} else {
		kt = c.nnReshape(c.Input(1))
		if kt.Type() != dsl.Int32 {
			kt = c.Net().AddCast(kt, dsl.Int32).Output(0)
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	vals, idx := c.nnTopK(x, op, k, kt, axis)
	outs := []*dsl.Tensor{vals, idx}
	return outs[:min(len(outs), c.NbOutputs())], nil
}

// importArgMinMax takes TopK's index for k=1. For select_last_index the
// axis is reversed first and the index mirrored back.
func importArgMinMax(isMax bool) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		if err := c.Require(1); err != nil {
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
		_, idx := c.nnTopK(x, op, 1, nil, axis)
		if last {
			idx = c.ew(c.nnInt64Const(n-1), idx, dsl.ElementWiseSub)
		}
		if !keep {
			idx = c.nnSqueeze(idx, int64(axis))
		}
		return []*dsl.Tensor{idx}, nil
	}
}

// nnTopK adds a TopK along axis with Int64 indices (k from kt when not
// nil). TensorRT's TopK works on the last four axes only, so an earlier
// axis is swapped with the last one around the layer.
func (c *nodeCtx) nnTopK(x *dsl.Tensor, op dsl.TopKOperation, k int, kt *dsl.Tensor, axis int) (vals, idx *dsl.Tensor) {
	r := x.Rank()
	var perm dsl.Permutation
	if axis < r-4 {
		perm = make(dsl.Permutation, r)
		for i := range perm {
			perm[i] = i
		}
		perm[axis], perm[r-1] = r-1, axis
		s := c.Net().AddShuffle(x)
		s.SetFirstTranspose(perm)
		x, axis = s.Output(0), r-1
	}
	l := c.Net().AddTopK(x, op, k, 1<<uint(axis))
	if kt != nil {
		l.SetInput(1, kt)
	}
	l.SetIndicesType(dsl.Int64)
	vals, idx = l.Output(0), l.Output(1)
	if perm != nil {
		back := func(t *dsl.Tensor) *dsl.Tensor {
			s := c.Net().AddShuffle(t)
			s.SetFirstTranspose(perm)
			return s.Output(0)
		}
		vals, idx = back(vals), back(idx)
	}
	return vals, idx
}
