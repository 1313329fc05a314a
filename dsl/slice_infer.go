package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// sliceParam is one of start, size, stride or axes during inference:
// its length (-1 if unknown) and values (nil if unknown).
type sliceParam struct {
	n    int64
	vals []int64
}

// param reads parameter input i, or the static dims d when it is unset.
func (l *SliceLayer) param(c *inferCtx, i int, d Dims, what string) (sliceParam, bool) {
	if !c.has(i) {
		return sliceParam{n: int64(len(d)), vals: d}, true
	}
	n, ok := datamoveShapeInput(c, i, what)
	if !ok {
		return sliceParam{}, false
	}
	v, known := c.values(i)
	if known {
		// Known values fix the length even if the dims do not say it.
		n = int64(len(v))
	}
	return sliceParam{n: n, vals: v}, true
}

func (l *SliceLayer) infer(c *inferCtx) {
	in := c.in(0)
	rank := len(in.dims)
	if l.mode < 0 || l.mode >= numSampleModes {
		c.errorf(diag.InvalidNode, "unknown sample mode %d", int(l.mode))
		return
	}
	start, ok1 := l.param(c, 1, l.start, "start")
	size, ok2 := l.param(c, 2, l.size, "size")
	stride, ok3 := l.param(c, 3, l.stride, "stride")
	axesGiven := c.has(5) || l.axes != nil
	axes, ok5 := l.param(c, 5, l.axes, "axes")
	if !ok1 || !ok2 || !ok3 || !ok5 {
		return
	}
	if c.has(4) {
		f := c.in(4)
		switch {
		case l.mode != SampleFill:
			c.errorf(diag.InvalidNode, "input 4 (fill value %q) is only allowed with SampleFill, not %v", f.name, l.mode)
			return
		case f.dtype != in.dtype:
			c.errorf(diag.TypeMismatch, "the fill value %q is %v but the input %q is %v; insert a Cast", f.name, f.dtype, in.name, in.dtype)
			return
		case len(f.dims) != 0:
			c.errorf(diag.ShapeMismatch, "the fill value %q must be a scalar, got dims %v", f.name, f.dims)
			return
		}
	}
	// The lengths that are known must agree.
	want := int64(-1)
	if !axesGiven {
		want = int64(rank)
	} else if axes.n >= 0 {
		want = axes.n
	}
	for _, p := range []struct {
		name string
		p    sliceParam
	}{{"start", start}, {"size", size}, {"stride", stride}} {
		switch {
		case p.p.n < 0:
		case want < 0:
			want = p.p.n
		case p.p.n != want && !axesGiven:
			c.errorf(diag.ShapeMismatch, "%s has %d entries but the input %q has rank %d; give one per axis, or set axes", p.name, p.p.n, in.name, rank)
			return
		case p.p.n != want:
			c.errorf(diag.ShapeMismatch, "%s has %d entries but axes has %d; give one per sliced axis", p.name, p.p.n, want)
			return
		}
	}
	out := in.dims.Clone()
	if axesGiven && axes.vals == nil {
		// Which axes change is not known until run time.
		for i := range out {
			out[i] = Dynamic
		}
		c.setOutput(0, in.dtype, out)
		return
	}
	axisList := make([]int, 0, rank)
	if axesGiven {
		seen := make([]bool, rank)
		for _, a := range axes.vals {
			na, ok := normAxis(int(a), rank)
			if !ok || a < -int64(rank) || a >= int64(rank) {
				c.errorf(diag.InvalidNode, "axis %d is out of range for the rank-%d input %q; want [%d, %d)", a, rank, in.name, -rank, rank)
				return
			}
			if seen[na] {
				c.errorf(diag.InvalidNode, "axis %d is listed twice in axes %v", na, axes.vals)
				return
			}
			seen[na] = true
			axisList = append(axisList, na)
		}
	} else {
		for a := 0; a < rank; a++ {
			axisList = append(axisList, a)
		}
	}
	for k, a := range axisList {
		if size.vals == nil {
			out[a] = Dynamic
			continue
		}
		s := size.vals[k]
		if s < 0 {
			c.errorf(diag.InvalidNode, "size %d along axis %d is negative", s, a)
			return
		}
		out[a] = s
		if start.vals == nil || stride.vals == nil || in.dims[a] < 0 || s == 0 {
			continue
		}
		st, sd, n := start.vals[k], stride.vals[k], in.dims[a]
		first, last := st, st+(s-1)*sd
		if _, ok := l.mode.MapCoord(first, n); !ok {
			c.errorf(diag.InvalidNode, "%s", l.sliceBoundsMsg(a, first, n))
			return
		}
		if _, ok := l.mode.MapCoord(last, n); !ok {
			c.errorf(diag.InvalidNode, "%s", l.sliceBoundsMsg(a, last, n))
			return
		}
	}
	c.setOutput(0, in.dtype, out)
	l.foldValues(c, out, axisList, start.vals, stride.vals)
}

// sliceBoundsMsg explains why coordinate c cannot be read on an axis of
// length n.
func (l *SliceLayer) sliceBoundsMsg(axis int, c, n int64) string {
	if l.mode == SampleStrictBounds {
		return fmt.Sprintf("the slice reads coordinate %d on axis %d, outside [0, %d); use another sample mode (Clamp, Wrap, Fill, Reflect) or fix start/size/stride", c, axis, n)
	}
	return fmt.Sprintf("sample mode %v cannot produce elements from axis %d of length 0", l.mode, axis)
}

// foldValues computes the output of slicing a known 1-D shape tensor.
func (l *SliceLayer) foldValues(c *inferCtx, out Dims, axisList []int, start, stride []int64) {
	v, ok := c.values(0)
	if !ok || len(out) != 1 || !out.IsStatic() || len(axisList) != 1 || start == nil || stride == nil || c.has(4) {
		return
	}
	res := make([]int64, out[0])
	for j := range res {
		idx, ok := l.mode.MapCoord(start[0]+int64(j)*stride[0], int64(len(v)))
		switch {
		case !ok:
			return
		case idx < 0:
			res[j] = 0
		default:
			res[j] = v[idx]
		}
	}
	c.setValues(0, res)
}

// SliceWindow expands start, size and stride given for axes (nil: every
// axis) into one entry per axis of an input of the given dims: unlisted
// axes are copied whole. It checks the lengths and the axes. Exported for
// targets, which call it with the run-time values.
func SliceWindow(dims, start, size, stride, axes []int64) (fullStart, fullSize, fullStride []int64, err error) {
	rank := len(dims)
	fullStart = make([]int64, rank)
	fullSize = append([]int64{}, dims...)
	fullStride = make([]int64, rank)
	for i := range fullStride {
		fullStride[i] = 1
	}
	list := make([]int, 0, rank)
	if axes == nil {
		for a := 0; a < rank; a++ {
			list = append(list, a)
		}
	} else {
		seen := make([]bool, rank)
		for _, a := range axes {
			if a < -int64(rank) || a >= int64(rank) {
				return nil, nil, nil, diag.Errorf(diag.InvalidNode, "axis %d is out of range for rank %d", a, rank)
			}
			na, _ := normAxis(int(a), rank)
			if seen[na] {
				return nil, nil, nil, diag.Errorf(diag.InvalidNode, "axis %d is listed twice in axes %v", na, axes)
			}
			seen[na] = true
			list = append(list, na)
		}
	}
	if len(start) != len(list) || len(size) != len(list) || len(stride) != len(list) {
		return nil, nil, nil, diag.Errorf(diag.ShapeMismatch, "start, size and stride have %d, %d and %d entries; want %d", len(start), len(size), len(stride), len(list))
	}
	for k, a := range list {
		if size[k] < 0 {
			return nil, nil, nil, diag.Errorf(diag.InvalidNode, "size %d along axis %d is negative", size[k], a)
		}
		fullStart[a], fullSize[a], fullStride[a] = start[k], size[k], stride[k]
	}
	return fullStart, fullSize, fullStride, nil
}
