package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Squeeze and Unsqueeze: axes are an attribute before opset 13 and an
// input from 13 on. Axes known at build time map onto the Squeeze and
// Unsqueeze layers; axes computed at run time become a Shuffle whose shape
// vector is worked out at run time (the output rank is still static: the
// number of axes is).

func init() {
	const all = "all tensor types"
	for _, since := range []int64{1, 11, 13, 21} {
		register(OpInfo{Op: "Squeeze", Since: since, Types: all, Restrictions: "without axes, every dim must be known at build time"}, shReq(1, importSqueeze))
		register(OpInfo{Op: "Unsqueeze", Since: since, Types: all}, shReq(1, importUnsqueeze))
	}
}

// shSqueezeAxesOf returns the axes as constants (known=true), as a run-time
// tensor, or neither (given=false) when the node has none.
func (c *nodeCtx) shSqueezeAxesOf() (vals []int64, rt *dsl.Tensor, known, given bool) {
	if c.Opset() < 13 {
		if !c.HasAttr("axes") {
			return nil, nil, false, false
		}
		return c.AttrInts("axes", nil), nil, true, true
	}
	if !c.HasInput(1) {
		return nil, nil, false, false
	}
	if v, ok := c.ConstInts(1); ok {
		return v, nil, true, true
	}
	return nil, c.Input(1), false, true
}

func importSqueeze(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	r := x.Rank()
	vals, rt, known, given := c.shSqueezeAxesOf()
	switch {
	case !given:
		d := x.Dims()
		for i, v := range d {
			if v == 1 {
				vals = append(vals, int64(i))
			} else if v < 0 {
				return nil, c.Errorf(diag.UnsupportedAttr, "Squeeze without axes needs every dim known at build time; dim %d of %v is dynamic", i, d)
			}
		}
	case !known:
		return c.shSqueezeRuntime(x, rt)
	}
	axes, err := c.shNormAxes(vals, r, "axes")
	if err != nil {
		return nil, err
	}
	if len(axes) == 0 {
		return outputs(c.Net().AddIdentity(x)), nil
	}
	norm := make([]int64, len(axes))
	for i, a := range axes {
		norm[i] = int64(a)
	}
	return outputs(c.Net().AddSqueeze(x, c.shI64(norm...))), nil
}

func importUnsqueeze(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	vals, rt, known, given := c.shSqueezeAxesOf()
	if !given {
		return nil, c.Errorf(diag.InvalidNode, "Unsqueeze needs axes")
	}
	if !known {
		return c.shUnsqueezeRuntime(x, rt)
	}
	axes, err := c.shNormAxes(vals, x.Rank()+len(vals), "axes")
	if err != nil {
		return nil, err
	}
	norm := make([]int64, len(axes))
	for i, a := range axes {
		norm[i] = int64(a)
	}
	return outputs(c.Net().AddUnsqueeze(x, c.shI64(norm...))), nil
}

// shSqueezeMatch is [n, k] Bool: entry (j, i) says axes[i] == j.
func (c *nodeCtx) shSqueezeMatch(axes *dsl.Tensor, n int) *dsl.Tensor {
	k := axes.Dims()[0]
	col := c.shReshape(c.shIota(int64(n)), dsl.Dims{int64(n), 1})
	row := c.shReshape(axes, dsl.Dims{1, k})
	return c.ew(col, row, dsl.ElementWiseEqual)
}

// shSqueezeAny reduces a [n, k] Bool along axis 1 to an [n] Int64 0/1.
func (c *nodeCtx) shSqueezeAny(m *dsl.Tensor) *dsl.Tensor {
	i := c.Net().AddCast(m, dsl.Int64).Output(0)
	return c.Net().AddReduce(i, dsl.ReduceMax, 2, false).Output(0)
}

// shSqueezeRuntime removes the dims named by run-time axes: out[j] is the
// shape entry of the j-th kept axis.
func (c *nodeCtx) shSqueezeRuntime(x, axes *dsl.Tensor) ([]*dsl.Tensor, error) {
	r := x.Rank()
	k, err := c.shRank1(axes, "the axes input")
	if err != nil {
		return nil, err
	}
	if k > r {
		return nil, c.Errorf(diag.InvalidNode, "%d axes for an input of rank %d", k, r)
	}
	if k == 0 {
		return outputs(c.Net().AddIdentity(x)), nil
	}
	an := c.shNormAxesRT(axes, r)
	keep := c.ew(c.shI64(1), c.shSqueezeAny(c.shSqueezeMatch(an, r)), dsl.ElementWiseSub) // [r]
	pos := c.Net().AddCumulative(keep, c.shScalarI64(0), dsl.CumulativeSum, true, false).Output(0)
	// sel[i, j] = keep[i] && pos[i] == j, for j < r-k.
	n := int64(r - k)
	colPos := c.shReshape(pos, dsl.Dims{int64(r), 1})
	j := c.shReshape(c.shIota(n), dsl.Dims{1, n})
	sel := c.Net().AddCast(c.ew(colPos, j, dsl.ElementWiseEqual), dsl.Int64).Output(0)
	sel = c.ew(sel, c.shReshape(keep, dsl.Dims{int64(r), 1}), dsl.ElementWiseProd)
	prod := c.ew(sel, c.shReshape(c.shShapeOf(x), dsl.Dims{int64(r), 1}), dsl.ElementWiseProd)
	shape := c.Net().AddReduce(prod, dsl.ReduceSum, 1, false).Output(0)
	return []*dsl.Tensor{c.shReshapeTo(x, shape)}, nil
}

// shUnsqueezeRuntime inserts 1s at run-time axes of the output.
func (c *nodeCtx) shUnsqueezeRuntime(x, axes *dsl.Tensor) ([]*dsl.Tensor, error) {
	r := x.Rank()
	k, err := c.shRank1(axes, "the axes input")
	if err != nil {
		return nil, err
	}
	R := r + k
	if r == 0 {
		d := make(dsl.Dims, k)
		for i := range d {
			d[i] = 1
		}
		return []*dsl.Tensor{c.shReshape(x, d)}, nil
	}
	an := c.shNormAxesRT(axes, R)
	ins := c.shSqueezeAny(c.shSqueezeMatch(an, R)) // [R] 0/1
	notIns := c.ew(c.shI64(1), ins, dsl.ElementWiseSub)
	pos := c.Net().AddCumulative(notIns, c.shScalarI64(0), dsl.CumulativeSum, true, false).Output(0)
	pos = c.ew(pos, c.shScalarI64(int64(r-1)), dsl.ElementWiseMin)
	dims := c.Net().AddGather(c.shShapeOf(x), pos, 0).Output(0)
	isIns := c.ew(ins, c.shScalarI64(1), dsl.ElementWiseEqual)
	shape := c.shSelect(isIns, c.shScalarI64(1), dims)
	return []*dsl.Tensor{c.shReshapeTo(x, shape)}, nil
}
