package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Gather, GatherElements, GatherND, ScatterElements (and its deprecated
// alias Scatter), ScatterND, OneHot, NonZero and Compress. Negative indices
// are wrapped here (idx + dim), on the host for constant indices and with
// a Select in the network otherwise, so targets only see indices in range.

func init() {
	const all = "all tensor types; indices int32, int64"
	for _, since := range []int64{1, 11, 13} {
		register(OpInfo{Op: "Gather", Since: since, Types: all}, shReq(2, importGather))
	}
	for _, since := range []int64{11, 13} {
		register(OpInfo{Op: "GatherElements", Since: since, Types: all}, shReq(2, importGatherElements))
	}
	for _, since := range []int64{11, 12, 13} {
		register(OpInfo{Op: "GatherND", Since: since, Types: all}, shReq(2, importGatherND))
	}
	const noReduction = "reductions other than none are composed in O(updates x rows) memory"
	for _, since := range []int64{11, 13, 16, 18} {
		register(OpInfo{Op: "ScatterElements", Since: since, Types: all, Restrictions: noReduction}, shReq(3, importScatterElements))
		register(OpInfo{Op: "ScatterND", Since: since, Types: all, Restrictions: noReduction}, shReq(3, importScatterND))
	}
	for _, since := range []int64{9, 11} {
		register(OpInfo{Op: "Scatter", Since: since, Types: all}, shReq(3, importScatterElements))
	}
	for _, since := range []int64{9, 11} {
		register(OpInfo{Op: "OneHot", Since: since, Types: "indices and depth: numeric; values: all tensor types"}, shReq(3, importOneHot))
		register(OpInfo{Op: "Compress", Since: since, Types: all}, shReq(2, importCompress))
	}
	for _, since := range []int64{9, 13} {
		register(OpInfo{Op: "NonZero", Since: since, Types: "all tensor types but int4"}, shReq(1, importNonZero))
	}
}

// shGatherWrap returns indices with negative values wrapped by dim (a
// tensor that broadcasts against the indices), keeping their type.
func (c *nodeCtx) shGatherWrap(i int, idx, dim *dsl.Tensor) *dsl.Tensor {
	if v, ok := c.ConstInts(i); ok {
		neg := false
		for _, x := range v {
			neg = neg || x < 0
		}
		if !neg {
			return idx
		}
		// Constant indices against known dims are wrapped here.
		if dv, ok := dim.KnownValues(); ok && len(dv) > 0 && (idx.Type() == dsl.Int32 || idx.Type() == dsl.Int64) {
			w := make([]int64, len(v))
			for k, x := range v {
				w[k] = x
				if d := dv[k%len(dv)]; x < 0 {
					w[k] = x + d
				}
			}
			if t, err := tensor.FromInt64s(idx.Type(), idx.Dims(), w); err == nil {
				return c.Constant(t)
			}
		}
	}
	if idx.Type() != dsl.Int32 && idx.Type() != dsl.Int64 {
		idx = c.Net().AddCast(idx, dsl.Int64).Output(0)
	}
	if dim.Type() != idx.Type() {
		dim = c.Net().AddCast(dim, idx.Type()).Output(0)
	}
	zero := c.shScalarOf(idx.Type(), 0)
	return c.shSelect(c.ew(idx, zero, dsl.ElementWiseLess), c.ew(idx, dim, dsl.ElementWiseSum), idx)
}

// shGatherDim is the run-time length of axis a of x as a rank-0 tensor.
func (c *nodeCtx) shGatherDim(x *dsl.Tensor, a int) *dsl.Tensor {
	return c.shReshape(c.shSlice1(c.shShapeOf(x), int64(a), 1), dsl.Dims{})
}

func importGather(c *nodeCtx) ([]*dsl.Tensor, error) {
	data, idx := c.Input(0), c.Input(1)
	axis, err := c.shNormAxis(c.AttrInt("axis", 0), data.Rank(), "axis")
	if err != nil {
		return nil, err
	}
	idx = c.shGatherWrap(1, idx, c.shGatherDim(data, axis))
	return outputs(c.Net().AddGather(data, idx, axis)), nil
}

func importGatherElements(c *nodeCtx) ([]*dsl.Tensor, error) {
	data, idx := c.Input(0), c.Input(1)
	axis, err := c.shNormAxis(c.AttrInt("axis", 0), data.Rank(), "axis")
	if err != nil {
		return nil, err
	}
	idx = c.shGatherWrap(1, idx, c.shGatherDim(data, axis))
	l := c.Net().AddGatherV2(data, idx, dsl.GatherElement)
	l.SetGatherAxis(axis)
	return outputs(l), nil
}

func importGatherND(c *nodeCtx) ([]*dsl.Tensor, error) {
	data, idx := c.Input(0), c.Input(1)
	b := c.AttrInt("batch_dims", 0)
	q := idx.Rank()
	if q < 1 {
		return nil, c.Errorf(diag.InvalidNode, "GatherND indices must have rank >= 1")
	}
	k := idx.Dims()[q-1]
	if b < 0 || k < 0 || b+k > int64(data.Rank()) {
		return nil, c.Errorf(diag.InvalidNode, "batch_dims %d with index tuples of length %d do not fit data of rank %d", b, k, data.Rank())
	}
	dims := c.shSlice1(c.shShapeOf(data), b, k)
	idx = c.shGatherWrap(1, idx, dims)
	l := c.Net().AddGatherV2(data, idx, dsl.GatherND)
	l.SetNbElementWiseDims(int(b))
	return outputs(l), nil
}

func importScatterElements(c *nodeCtx) ([]*dsl.Tensor, error) {
	red, err := c.shScatterReductionName()
	if err != nil {
		return nil, err
	}
	data, idx, upd := c.Input(0), c.Input(1), c.Input(2)
	axis, err := c.shNormAxis(c.AttrInt("axis", 0), data.Rank(), "axis")
	if err != nil {
		return nil, err
	}
	idx = c.shGatherWrap(1, idx, c.shGatherDim(data, axis))
	if red != "none" {
		return []*dsl.Tensor{c.shScatterElementsReduce(red, data, idx, upd, axis)}, nil
	}
	l := c.Net().AddScatter(data, idx, upd, dsl.ScatterElement)
	l.SetAxis(axis)
	return outputs(l), nil
}

func importScatterND(c *nodeCtx) ([]*dsl.Tensor, error) {
	red, err := c.shScatterReductionName()
	if err != nil {
		return nil, err
	}
	data, idx, upd := c.Input(0), c.Input(1), c.Input(2)
	q := idx.Rank()
	if q < 1 || idx.Dims()[q-1] < 0 || idx.Dims()[q-1] > int64(data.Rank()) {
		return nil, c.Errorf(diag.InvalidNode, "ScatterND indices %v do not fit data of rank %d", idx.Dims(), data.Rank())
	}
	idx = c.shGatherWrap(1, idx, c.shSlice1(c.shShapeOf(data), 0, idx.Dims()[q-1]))
	if red != "none" {
		return []*dsl.Tensor{c.shScatterNDReduce(red, data, idx, upd)}, nil
	}
	return outputs(c.Net().AddScatter(data, idx, upd, dsl.ScatterND)), nil
}

// importOneHot casts numeric indices and depth to Int64 (ONNX allows any
// numeric type; fractions truncate) and wraps negative indices by depth.
func importOneHot(c *nodeCtx) ([]*dsl.Tensor, error) {
	idx, depth, vals := c.Input(0), c.Input(1), c.Input(2)
	idx = c.shOneHotInt(idx)
	if v, ok := c.ConstFloats(1); ok && len(v) == 1 {
		// A known depth keeps the output dim static, whatever its type.
		depth = c.shScalarI64(int64(v[0]))
	}
	depth = c.shOneHotInt(depth)
	if depth.Dims().Volume() != 1 {
		return nil, c.Errorf(diag.InvalidNode, "depth must hold one value, got dims %v", depth.Dims())
	}
	if depth.Rank() != 0 {
		depth = c.shReshape(depth, dsl.Dims{})
	}
	if vals.Rank() != 1 {
		return nil, c.Errorf(diag.InvalidNode, "values must be 1-D [off_value, on_value], got dims %v", vals.Dims())
	}
	axis := c.AttrInt("axis", -1)
	r := idx.Rank() + 1
	if axis < -int64(r) || axis >= int64(r) {
		return nil, c.Errorf(diag.InvalidNode, "axis %d is out of range for an output of rank %d", axis, r)
	}
	if axis < 0 {
		axis += int64(r)
	}
	idx = c.shGatherWrap(0, idx, depth)
	return outputs(c.Net().AddOneHot(idx, vals, depth, int(axis))), nil
}

func (c *nodeCtx) shOneHotInt(t *dsl.Tensor) *dsl.Tensor {
	if t.Type() == dsl.Int64 || t.Type() == dsl.Int32 {
		return t
	}
	return c.Net().AddCast(t, dsl.Int64).Output(0)
}

func importNonZero(c *nodeCtx) ([]*dsl.Tensor, error) {
	return outputs(c.Net().AddNonZero(c.Input(0))), nil
}

// importCompress gathers the positions where condition is true: along
// axis, or of the flattened input without one.
func importCompress(c *nodeCtx) ([]*dsl.Tensor, error) {
	x, cond := c.Input(0), c.Input(1)
	if cond.Rank() != 1 {
		return nil, c.Errorf(diag.InvalidNode, "condition must be 1-D, got dims %v", cond.Dims())
	}
	if cond.Type() != dsl.Bool {
		cond = c.ew(cond, c.shScalarOf(cond.Type(), 0), dsl.ElementWiseEqual)
		cond = c.shNot(cond)
	}
	pos := c.shReshape(c.Net().AddNonZero(cond).Output(0), dsl.Dims{-1})
	axis := 0
	if c.HasAttr("axis") {
		a, err := c.shNormAxis(c.AttrInt("axis", 0), x.Rank(), "axis")
		if err != nil {
			return nil, err
		}
		axis = a
	} else {
		x = c.shReshape(x, dsl.Dims{-1})
	}
	return outputs(c.Net().AddGather(x, pos, axis)), nil
}
