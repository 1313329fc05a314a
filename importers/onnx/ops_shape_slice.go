package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Slice and Split map onto Slice layers. ONNX clamps out-of-range starts
// and ends to the axis (INT_MAX ends mean "to the end"); with a negative
// step starts clamp to [0, d-1] and ends to [-1, d-1]. When every value
// and the sliced dims are known at build time the window is computed here;
// otherwise the same arithmetic runs in the network (Slice inputs 1, 2, 3
// and 5).

func init() {
	const all = "all tensor types"
	for _, since := range []int64{1, 10, 11, 13} {
		register(OpInfo{Op: "Slice", Since: since, Types: all}, shReq(1, importSlice))
	}
	for _, since := range []int64{2, 11, 13, 18} {
		register(OpInfo{Op: "Split", Since: since, Types: all}, shReq(1, importSplit))
	}
}

// shSliceInput returns a Slice parameter as constants or as a run-time Int64
// tensor (both nil when absent).
func (c *nodeCtx) shSliceInput(i int) ([]int64, *dsl.Tensor, bool) {
	if !c.HasInput(i) {
		return nil, nil, false
	}
	if v, ok := c.ConstInts(i); ok {
		return v, nil, true
	}
	return nil, c.shToI64(c.Input(i)), true
}

// shSliceClamp computes ONNX's (start, size) for one axis of length d.
func shSliceClamp(s, e, t, d int64) (int64, int64) {
	if s < 0 {
		s += d
	}
	if e < 0 {
		e += d
	}
	var size int64
	if t > 0 {
		s = min(max(s, 0), d)
		e = min(max(e, 0), d)
		if e > s {
			size = (e - s + t - 1) / t
		}
	} else {
		s = min(max(s, 0), d-1)
		e = min(max(e, -1), d-1)
		if s > e {
			size = (s - e - t - 1) / -t
		}
	}
	return s, size
}

func importSlice(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	r := x.Rank()
	var starts, ends, axes, steps []int64
	var rtStarts, rtEnds, rtAxes, rtSteps *dsl.Tensor
	hasAxes, hasSteps := false, false
	if c.Opset() < 10 {
		starts, ends = c.AttrInts("starts", nil), c.AttrInts("ends", nil)
		axes = c.AttrInts("axes", nil)
		hasAxes = axes != nil
		if starts == nil || ends == nil {
			return nil, c.Errorf(diag.InvalidNode, "Slice needs the starts and ends attributes")
		}
	} else {
		var ok bool
		if starts, rtStarts, ok = c.shSliceInput(1); !ok {
			return nil, c.Errorf(diag.InvalidNode, "Slice needs the starts input")
		}
		if ends, rtEnds, ok = c.shSliceInput(2); !ok {
			return nil, c.Errorf(diag.InvalidNode, "Slice needs the ends input")
		}
		axes, rtAxes, hasAxes = c.shSliceInput(3)
		steps, rtSteps, hasSteps = c.shSliceInput(4)
	}
	// k: the number of sliced axes.
	k := -1
	for _, p := range []struct {
		v  []int64
		rt *dsl.Tensor
		n  string
	}{{starts, rtStarts, "starts"}, {ends, rtEnds, "ends"}, {axes, rtAxes, "axes"}, {steps, rtSteps, "steps"}} {
		n := -1
		switch {
		case p.rt != nil:
			m, err := c.shRank1(p.rt, p.n)
			if err != nil {
				return nil, err
			}
			n = m
		case p.v != nil:
			n = len(p.v)
		default:
			continue
		}
		if k >= 0 && n != k {
			return nil, c.Errorf(diag.InvalidNode, "%s has %d entries; starts has %d", p.n, n, k)
		}
		k = n
	}
	if !hasAxes {
		axes = make([]int64, k)
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if !hasSteps {
		steps = make([]int64, k)
		for i := range steps {
			steps[i] = 1
		}
	}
	if k > r {
		return nil, c.Errorf(diag.InvalidNode, "%d sliced axes for an input of rank %d", k, r)
	}
	for _, t := range steps {
		if t == 0 {
			return nil, c.Errorf(diag.InvalidNode, "steps %v has a 0", steps)
		}
	}
	var normAxes []int
	if rtAxes == nil {
		var err error
		if normAxes, err = c.shNormAxes(axes, r, "axes"); err != nil {
			return nil, err
		}
	}
	if rtStarts == nil && rtEnds == nil && rtAxes == nil && rtSteps == nil {
		d := x.Dims()
		static := true
		for _, a := range normAxes {
			static = static && d[a] >= 0
		}
		if static {
			st, sz, sd := make(dsl.Dims, k), make(dsl.Dims, k), make(dsl.Dims, k)
			for i, a := range normAxes {
				st[i], sz[i] = shSliceClamp(starts[i], ends[i], steps[i], d[a])
				sd[i] = steps[i]
			}
			return []*dsl.Tensor{c.shSliceAxes(x, normAxes, st, sz, sd)}, nil
		}
	}
	return []*dsl.Tensor{c.shSliceRuntime(x, starts, ends, axes, steps, normAxes, rtStarts, rtEnds, rtAxes, rtSteps)}, nil
}

// shSliceAxes slices the listed axes with static parameters.
func (c *nodeCtx) shSliceAxes(x *dsl.Tensor, axes []int, st, sz, sd dsl.Dims) *dsl.Tensor {
	r := x.Rank()
	fs, fz, fd := make(dsl.Dims, r), x.Dims().Clone(), make(dsl.Dims, r)
	for i := range fd {
		fd[i] = 1
	}
	dyn := false
	for i, a := range axes {
		fs[a], fz[a], fd[a] = st[i], sz[i], sd[i]
	}
	for _, v := range fz {
		dyn = dyn || v < 0
	}
	l := c.Net().AddSlice(x, fs, fz, fd)
	if dyn {
		// Unsliced axes keep their run-time length.
		l.SetAxes(shIntsToDims(axes))
		l.SetStart(st)
		l.SetSize(sz)
		l.SetStride(sd)
	}
	return l.Output(0)
}

func shIntsToDims(v []int) dsl.Dims {
	d := make(dsl.Dims, len(v))
	for i, a := range v {
		d[i] = int64(a)
	}
	return d
}

// shSliceRuntime computes ONNX's clamped window in the network.
func (c *nodeCtx) shSliceRuntime(x *dsl.Tensor, starts, ends, axes, steps []int64, normAxes []int,
	rtStarts, rtEnds, rtAxes, rtSteps *dsl.Tensor) *dsl.Tensor {
	vec := func(v []int64, rt *dsl.Tensor) *dsl.Tensor {
		if rt != nil {
			return rt
		}
		return c.shI64(v...)
	}
	var an *dsl.Tensor
	if rtAxes != nil {
		an = c.shNormAxesRT(rtAxes, x.Rank())
	} else {
		an = c.shI64(shIntsToDims(normAxes)...)
	}
	d := c.Net().AddGather(c.shShapeOf(x), an, 0).Output(0)
	s, e, t := vec(starts, rtStarts), vec(ends, rtEnds), vec(steps, rtSteps)
	zero := c.shScalarI64(0)
	wrap := func(v *dsl.Tensor) *dsl.Tensor {
		return c.shSelect(c.ew(v, zero, dsl.ElementWiseLess), c.ew(v, d, dsl.ElementWiseSum), v)
	}
	// Keep INT64 extremes from overflowing when d is added: clamp first
	// to a range that contains every meaningful value.
	big := c.shScalarI64(math.MaxInt64 / 4)
	s = c.ew(c.ew(s, big, dsl.ElementWiseMin), c.ew(zero, big, dsl.ElementWiseSub), dsl.ElementWiseMax)
	e = c.ew(c.ew(e, big, dsl.ElementWiseMin), c.ew(zero, big, dsl.ElementWiseSub), dsl.ElementWiseMax)
	s, e = wrap(s), wrap(e)
	negI := c.Net().AddCast(c.ew(t, zero, dsl.ElementWiseLess), dsl.Int64).Output(0)
	hi := c.ew(d, negI, dsl.ElementWiseSub)
	s = c.ew(c.ew(s, zero, dsl.ElementWiseMax), hi, dsl.ElementWiseMin)
	e = c.ew(c.ew(e, c.ew(zero, negI, dsl.ElementWiseSub), dsl.ElementWiseMax), hi, dsl.ElementWiseMin)
	// size = max(0, ceil((e-s)/t)) = max(0, -floor((s-e)/t)).
	fl := c.ew(c.ew(s, e, dsl.ElementWiseSub), t, dsl.ElementWiseFloorDiv)
	size := c.ew(c.ew(zero, fl, dsl.ElementWiseSub), zero, dsl.ElementWiseMax)
	l := c.Net().AddSlice(x, nil, nil, nil)
	l.SetInput(1, s)
	l.SetInput(2, size)
	l.SetInput(3, t)
	l.SetInput(5, an)
	return l.Output(0)
}

// importSplit cuts the input along axis into the node's outputs: sizes
// from the split attribute (before 13) or input, else equal parts
// (num_outputs in 18, where the last part may be smaller).
func importSplit(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	r := x.Rank()
	axis, err := c.shNormAxis(c.AttrInt("axis", 0), r, "axis")
	if err != nil {
		return nil, err
	}
	n := c.NbOutputs()
	var split []int64
	var rtSplit *dsl.Tensor
	if c.Opset() < 13 {
		split = c.AttrInts("split", nil)
	} else if c.HasInput(1) {
		if v, ok := c.ConstInts(1); ok {
			split = v
		} else {
			rtSplit = c.shToI64(c.Input(1))
			if m, err := c.shRank1(rtSplit, "the split input"); err != nil {
				return nil, err
			} else if m != n {
				return nil, c.Errorf(diag.InvalidNode, "split has %d entries but the node has %d outputs", m, n)
			}
		}
	}
	if split != nil && len(split) != n {
		return nil, c.Errorf(diag.InvalidNode, "split %v has %d entries but the node has %d outputs", split, len(split), n)
	}
	d := x.Dims()[axis]
	if split == nil && rtSplit == nil && d >= 0 {
		if c.Opset() >= 18 && c.HasAttr("num_outputs") && c.AttrInt("num_outputs", 0) != int64(n) {
			return nil, c.Errorf(diag.InvalidNode, "num_outputs is %d but the node has %d outputs", c.AttrInt("num_outputs", 0), n)
		}
		chunk := (d + int64(n) - 1) / int64(n)
		if c.Opset() < 18 && d%int64(n) != 0 {
			return nil, c.Errorf(diag.InvalidNode, "axis %d of length %d does not split into %d equal parts", axis, d, n)
		}
		for i := 0; i < n; i++ {
			split = append(split, max(min(chunk, d-int64(i)*chunk), 0))
		}
	}
	outs := make([]*dsl.Tensor, n)
	if split != nil {
		start := int64(0)
		for i, s := range split {
			if s < 0 {
				return nil, c.Errorf(diag.InvalidNode, "split %v has a negative size", split)
			}
			outs[i] = c.shSplitPart(x, axis, c.shI64(start), c.shI64(s))
			start += s
		}
		return outs, nil
	}
	if rtSplit == nil {
		// Equal parts of a dynamic axis: chunk = ceil(d/n).
		dim := c.shSlice1(c.shShapeOf(x), int64(axis), 1)
		nn := c.shI64(int64(n))
		chunk := c.ew(c.ew(c.ew(dim, nn, dsl.ElementWiseSum), c.shI64(1), dsl.ElementWiseSub), nn, dsl.ElementWiseFloorDiv)
		for i := 0; i < n; i++ {
			start := c.ew(chunk, c.shI64(int64(i)), dsl.ElementWiseProd)
			size := c.ew(c.ew(dim, start, dsl.ElementWiseSub), chunk, dsl.ElementWiseMin)
			size = c.ew(size, c.shI64(0), dsl.ElementWiseMax)
			outs[i] = c.shSplitPart(x, axis, c.ew(start, dim, dsl.ElementWiseMin), size)
		}
		return outs, nil
	}
	starts := c.Net().AddCumulative(rtSplit, c.shScalarI64(0), dsl.CumulativeSum, true, false).Output(0)
	for i := 0; i < n; i++ {
		outs[i] = c.shSplitPart(x, axis, c.shSlice1(starts, int64(i), 1), c.shSlice1(rtSplit, int64(i), 1))
	}
	return outs, nil
}

// shSplitPart slices [start, start+size) of one axis; start and size are
// [1] Int64 tensors.
func (c *nodeCtx) shSplitPart(x *dsl.Tensor, axis int, start, size *dsl.Tensor) *dsl.Tensor {
	sv, ok1 := start.KnownValues()
	zv, ok2 := size.KnownValues()
	if ok1 && ok2 {
		return c.shSliceAxes(x, []int{axis}, dsl.Dims(sv), dsl.Dims(zv), dsl.Dims{1})
	}
	l := c.Net().AddSlice(x, nil, nil, dsl.Dims{1})
	l.SetAxes(dsl.Dims{int64(axis)})
	l.SetInput(1, start)
	l.SetInput(2, size)
	return l.Output(0)
}
