package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// redAxes is the set of axes a Reduce* node reduces: a static bitmask
// (axes known at import time, the usual case) or a runtime Bool mask
// computed from an axes tensor. Reductions are built with keepdims=1 and
// finish removes the reduced axes when keepdims=0.
type redAxes struct {
	c    *nodeCtx
	rank int
	keep bool
	noop bool   // reduce nothing (noop_with_empty_axes with empty axes)
	mask uint32 // static axes (bit i = axis i)
	// rt is the runtime mask, Bool [rank], or nil when the axes are static;
	// nAxes is the static length of the axes tensor (-1 unknown).
	rt    *dsl.Tensor
	nAxes int64
	flags []*dsl.Tensor
}

// redAxesFor reads a node's axes: the axes attribute (axesInput false) or
// input 1 with noop_with_empty_axes. No axes (or an empty list) reduce
// every axis unless noop_with_empty_axes is set.
func redAxesFor(c *nodeCtx, x *dsl.Tensor, axesInput bool) (*redAxes, error) {
	rank := x.Rank()
	r := &redAxes{c: c, rank: rank, keep: c.AttrInt("keepdims", 1) != 0}
	var axes []int64
	if axesInput {
		noopEmpty := c.AttrInt("noop_with_empty_axes", 0) != 0
		if c.HasInput(1) {
			if v, ok := c.ConstInts(1); ok {
				axes = v
			} else {
				t := c.Input(1)
				d := t.Dims()
				if len(d) != 1 {
					return nil, c.Errorf(diag.ShapeMismatch, "axes %q must be 1-D, got dims %v", t.Name(), d)
				}
				// Even an axes tensor known to be empty is read at run
				// time, so a network input feeding it stays used.
				return r, r.runtime(t, noopEmpty)
			}
		}
		if len(axes) == 0 && noopEmpty {
			r.noop = true
			return r, nil
		}
	} else {
		axes = c.AttrInts("axes", nil)
	}
	if rank > 32 {
		return nil, c.Errorf(diag.UnsupportedAttr, "input %q has rank %d; reductions support rank 32 at most", x.Name(), rank)
	}
	if len(axes) == 0 {
		r.mask = uint32(1<<uint(rank) - 1)
		return r, nil
	}
	for _, a := range axes {
		ax, err := redAxis(c, "axis", a, rank)
		if err != nil {
			return nil, err
		}
		r.mask |= 1 << uint(ax)
	}
	return r, nil
}

// runtime computes the Bool mask of reduced axes from the axes tensor:
// mask[i] = any(axes == i) after negative axes are wrapped, or every axis
// when the tensor turns out empty at run time and noop_with_empty_axes is
// not set. Axes out of range select nothing.
func (r *redAxes) runtime(axes *dsl.Tensor, noopEmpty bool) error {
	c, n := r.c, axes.Dims()[0]
	if r.rank == 0 || r.rank > 32 {
		return c.Errorf(diag.UnsupportedAttr, "runtime axes %q need an input of rank 1..32, got rank %d", axes.Name(), r.rank)
	}
	if !r.keep && n < 0 {
		return c.Errorf(diag.UnsupportedAttr, "keepdims=0 with runtime axes %q of unknown length: the output rank is unknown at build time", axes.Name())
	}
	if n > int64(r.rank) {
		return c.Errorf(diag.InvalidNode, "axes %q lists %d axes, but the input has rank %d", axes.Name(), n, r.rank)
	}
	r.nAxes = n
	if n == 0 && !noopEmpty {
		r.nAxes = int64(r.rank)
	}
	net := c.Net()
	a := redCast(c, axes, dsl.Int64)
	wrapped := redEW(c, a, redInts(c, int64(r.rank)), dsl.ElementWiseSum)
	a = redSelect(c, redEW(c, a, redInts(c, 0), dsl.ElementWiseLess), wrapped, a)
	iota := make([]int64, r.rank)
	for i := range iota {
		iota[i] = int64(i)
	}
	pos := redReshape(c, redInts(c, iota...), 1, int64(r.rank))
	eq := redEW(c, redUnsqueeze(c, a, 1), pos, dsl.ElementWiseEqual) // [n, rank]
	hits := net.AddReduce(redCast(c, eq, dsl.Int32), dsl.ReduceMax, 1, false).Output(0)
	mask := redEW(c, hits, redScalar(c, dsl.Int32, 0, 1), dsl.ElementWiseGreater)
	if n <= 0 && !noopEmpty {
		empty := redEW(c, net.AddShape(axes).Output(0), redInts(c, 0), dsl.ElementWiseEqual)
		mask = redEW(c, mask, empty, dsl.ElementWiseOr)
	}
	r.rt = mask
	return nil
}

// flag returns mask[i] as a [1] Bool tensor.
func (r *redAxes) flag(i int) *dsl.Tensor {
	if r.flags == nil {
		r.flags = make([]*dsl.Tensor, r.rank)
	}
	if r.flags[i] == nil {
		r.flags[i] = r.c.Net().AddSlice(r.rt, dsl.Dims{int64(i)}, dsl.Dims{1}, dsl.Dims{1}).Output(0)
	}
	return r.flags[i]
}

// reduce reduces x over the axes, keeping them as unit dims.
func (r *redAxes) reduce(x *dsl.Tensor, op dsl.ReduceOperation) *dsl.Tensor {
	c := r.c
	net := c.Net()
	switch {
	case r.noop:
		return x
	case r.rt == nil:
		if r.mask == 0 {
			return x
		}
		return net.AddReduce(x, op, r.mask, true).Output(0)
	}
	// Runtime axes: along each axis, concatenate the reduced value (length
	// 1) before the unreduced data (length d) and slice out the part the
	// flag picks: [0, 1) when set, [1, 1+d) otherwise. Unlike a select,
	// this also works for an empty axis (d = 0).
	shape := net.AddShape(x).Output(0)
	if op == dsl.ReduceAvg {
		// Averages of averages would truncate integers twice: divide the
		// sum by the number of reduced elements instead.
		count := net.AddSelect(r.rt, shape, redInts(c, sigOnes(r.rank)...)).Output(0)
		count = net.AddReduce(count, dsl.ReduceProd, 1, false).Output(0)
		if !x.Type().IsFloat() {
			count = redEW(c, count, redScalar(c, dsl.Int64, 1, 0), dsl.ElementWiseMax) // sum of nothing is 0: 0/1
		}
		count = redReshape(c, redCast(c, count, x.Type()), sigOnes(r.rank)...)
		return redEW(c, r.reduce(x, dsl.ReduceSum), count, dsl.ElementWiseDiv)
	}
	cur := x
	for i := 0; i < r.rank; i++ {
		s := net.AddReduce(cur, op, 1<<uint(i), true).Output(0)
		cat := net.AddConcatenation([]*dsl.Tensor{s, cur})
		cat.SetAxis(i)
		d := net.AddSlice(shape, dsl.Dims{int64(i)}, dsl.Dims{1}, dsl.Dims{1}).Output(0)
		start := net.AddSelect(r.flag(i), redInts(c, 0), redInts(c, 1)).Output(0)
		size := net.AddSelect(r.flag(i), redInts(c, 1), d).Output(0)
		sl := net.AddSlice(cat.Output(0), dsl.Dims{0}, dsl.Dims{0}, dsl.Dims{1})
		sl.SetAxes(dsl.Dims{int64(i)})
		sl.SetInput(1, start)
		sl.SetInput(2, size)
		cur = sl.Output(0)
	}
	return cur
}

// finish removes the reduced unit axes of y when keepdims=0.
func (r *redAxes) finish(y *dsl.Tensor) (*dsl.Tensor, error) {
	c := r.c
	if r.keep || r.noop {
		return y, nil
	}
	if r.rt == nil {
		axes, err := dsl.AxesFromMask(r.mask, r.rank)
		if err != nil {
			return nil, c.Errorf(diag.InvalidNode, "%v", err)
		}
		sq := make([]int64, len(axes))
		for i, a := range axes {
			sq[i] = int64(a)
		}
		return redSqueeze(c, y, sq), nil
	}
	// The kept dims are the dims of y where the mask is false, in order.
	outRank := int64(r.rank) - r.nAxes
	if outRank == 0 {
		return redReshape(c, y), nil
	}
	net := c.Net()
	keepIdx := net.AddNonZero(redUnary(c, r.rt, dsl.UnaryNot)).Output(0)
	idx := redReshape(c, keepIdx, outRank)
	dims := net.AddGather(net.AddShape(y).Output(0), idx, 0).Output(0)
	sh := net.AddShuffle(y)
	sh.SetZeroIsPlaceholder(false)
	sh.SetInput(1, dims)
	return sh.Output(0), nil
}
