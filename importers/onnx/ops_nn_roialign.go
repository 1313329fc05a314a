package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() {
	for _, since := range []int64{10, 16, 22} {
		register(OpInfo{Op: "RoiAlign", Since: since, Types: "float32, float16, bfloat16",
			Restrictions: "static H and W > 1; sampling_ratio=0 (adaptive) needs rois known at import time"}, importRoiAlign)
	}
}

// nnRoiAlign holds a RoiAlign node's settings.
type nnRoiAlign struct {
	x          *dsl.Tensor
	outH, outW int64
	scale, off float64
	clampSize  bool // output_half_pixel: roi sizes are at least 1
	max        bool
	H, W       int64
}

// importRoiAlign composes RoiAlign from a Gather of each roi's image, a
// grid of sample points (srH x srW per output bin, bin-centered) and a
// pooling layer over each bin's samples. The adaptive sampling ratio
// (sampling_ratio=0) differs per roi, so it needs the rois at import time:
// rois with equal ratios share one pipeline, the others get their own.
func importRoiAlign(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(3); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	if x.Rank() != 4 {
		return nil, c.Errorf(diag.ShapeMismatch, "RoiAlign input has dims %v; want (N, C, H, W)", x.Dims())
	}
	ra := nnRoiAlign{x: x, outH: c.AttrInt("output_height", 1), outW: c.AttrInt("output_width", 1),
		scale: float64(c.AttrFloat("spatial_scale", 1)), H: x.Dims()[2], W: x.Dims()[3]}
	mode := c.AttrString("mode", "avg")
	sr := c.AttrInt("sampling_ratio", 0)
	ctm := "output_half_pixel"
	if c.opset >= 16 {
		ctm = c.AttrString("coordinate_transformation_mode", "half_pixel")
	}
	if c.err != nil {
		return nil, c.err
	}
	switch mode {
	case "avg":
	case "max":
		ra.max = true
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute mode=%q: want avg or max", mode)
	}
	if ra.outH < 1 || ra.outW < 1 || sr < 0 {
		return nil, c.Errorf(diag.UnsupportedAttr, "output_height=%d, output_width=%d must be >= 1 and sampling_ratio=%d >= 0", ra.outH, ra.outW, sr)
	}
	if ra.H <= 1 || ra.W <= 1 {
		return nil, c.Errorf(diag.UnsupportedAttr, "RoiAlign needs static H and W > 1; the input has %v", x.Dims())
	}
	switch ctm {
	case "half_pixel":
		ra.off = 0.5
	case "output_half_pixel":
		ra.clampSize = true
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute coordinate_transformation_mode=%q: want half_pixel or output_half_pixel", ctm)
	}
	if sr > 0 {
		return []*dsl.Tensor{c.nnRoiAlignPipeline(ra, c.Input(1), c.Input(2), sr, sr)}, nil
	}
	rv, ok := c.ConstFloats(1)
	if !ok {
		return nil, c.Errorf(diag.UnsupportedAttr, "sampling_ratio=0 (adaptive, per roi) needs the rois at import time; they are computed at run time")
	}
	if len(rv)%4 != 0 {
		return nil, c.Errorf(diag.ShapeMismatch, "rois have %d values; want (R, 4)", len(rv))
	}
	n := len(rv) / 4
	type ratio struct{ h, w int64 }
	ratios := make([]ratio, n)
	for i := range n {
		size := func(a, b float64) float64 {
			s := (b - a) * ra.scale
			if ra.clampSize {
				s = math.Max(s, 1)
			}
			return s
		}
		ratios[i] = ratio{int64(math.Ceil(size(rv[4*i+1], rv[4*i+3]) / float64(ra.outH))), int64(math.Ceil(size(rv[4*i], rv[4*i+2]) / float64(ra.outW)))}
		ratios[i].h, ratios[i].w = max(ratios[i].h, 1), max(ratios[i].w, 1)
	}
	rois, bidx := c.Input(1), c.Input(2)
	same := true
	for _, r := range ratios {
		same = same && r == ratios[0]
	}
	if same && n > 0 {
		return []*dsl.Tensor{c.nnRoiAlignPipeline(ra, rois, bidx, ratios[0].h, ratios[0].w)}, nil
	}
	parts := make([]*dsl.Tensor, n)
	for i := range n {
		row := func(t *dsl.Tensor) *dsl.Tensor {
			l := c.Net().AddSlice(t, dsl.Dims{int64(i)}, dsl.Dims{1}, dsl.Dims{1})
			l.SetAxes(dsl.Dims{0})
			return l.Output(0)
		}
		parts[i] = c.nnRoiAlignPipeline(ra, row(rois), row(bidx), ratios[i].h, ratios[i].w)
	}
	if n == 0 {
		return nil, c.Errorf(diag.UnsupportedAttr, "sampling_ratio=0 with no rois is not supported")
	}
	cat := c.Net().AddConcatenation(parts)
	cat.SetAxis(0)
	return outputs(cat), nil
}

// nnRoiAlignPipeline computes RoiAlign for rois [R, 4] with srH x srW
// samples per bin. Sample coordinates outside [-1, size] read 0; inside,
// they clamp to the image, as RoiAlign's bilinear interpolation does.
// Average mode samples bilinearly with a GridSample layer (align corners,
// border clamping); max mode takes, per sample, the largest of the four
// weighted corner values (RoiAlign's definition), read with nearest
// GridSamples at the corners.
func (c *nodeCtx) nnRoiAlignPipeline(ra nnRoiAlign, rois, bidx *dsl.Tensor, srH, srW int64) *dsl.Tensor {
	dt := ra.x.Type()
	if rois.Type() != dt {
		rois = c.Net().AddCast(rois, dt).Output(0)
	}
	ew := func(a, b *dsl.Tensor, op dsl.ElementWiseOperation) *dsl.Tensor { return c.ew(a, b, op) }
	k := func(t *dsl.Tensor, v float64) *dsl.Tensor { return c.scalarLike(v, t) }
	col := func(i int64) *dsl.Tensor { // rois[:, i:i+1] scaled and shifted, [R, 1]
		l := c.Net().AddSlice(rois, dsl.Dims{i}, dsl.Dims{1}, dsl.Dims{1})
		l.SetAxes(dsl.Dims{1})
		v := ew(l.Output(0), k(l.Output(0), ra.scale), dsl.ElementWiseProd)
		if ra.off != 0 {
			v = ew(v, k(v, ra.off), dsl.ElementWiseSub)
		}
		return v
	}
	x1, y1, x2, y2 := col(0), col(1), col(2), col(3)
	size := func(a, b *dsl.Tensor) *dsl.Tensor {
		s := ew(b, a, dsl.ElementWiseSub)
		if ra.clampSize {
			s = ew(s, k(s, 1), dsl.ElementWiseMax)
		}
		return s
	}
	// Sample coordinates: start + size*(j+0.5)/(out*sr), [R, out*sr].
	coords := func(start, sz *dsl.Tensor, n, sr int64) *dsl.Tensor {
		m := n * sr
		v := make([]float64, m)
		for j := range v {
			v[j] = (float64(j) + 0.5) / float64(m)
		}
		ct, _ := tensor.FromFloat64s(dt, []int64{1, m}, v)
		return ew(start, ew(sz, c.Constant(ct), dsl.ElementWiseProd), dsl.ElementWiseSum)
	}
	xs := coords(x1, size(x1, x2), ra.outW, srW) // [R, J]
	ys := coords(y1, size(y1, y2), ra.outH, srH) // [R, I]
	img := c.Net().AddGather(ra.x, bidx, 0).Output(0)
	// sample reads img at pixel coordinates (px [R, J], py [R, I]).
	sample := func(px, py *dsl.Tensor, mode dsl.InterpolationMode) *dsl.Tensor {
		norm := func(v *dsl.Tensor, n int64) *dsl.Tensor {
			return ew(ew(v, k(v, 2/float64(n-1)), dsl.ElementWiseProd), k(v, 1), dsl.ElementWiseSub)
		}
		gx := c.unsqueeze(norm(px, ra.W), 1, 3) // [R, 1, J, 1]
		gy := c.unsqueeze(norm(py, ra.H), 2, 3) // [R, I, 1, 1]
		zero := func(t *dsl.Tensor) *dsl.Tensor { return ew(t, k(t, 0), dsl.ElementWiseProd) }
		cat := c.Net().AddConcatenation([]*dsl.Tensor{ew(gx, zero(gy), dsl.ElementWiseSum), ew(gy, zero(gx), dsl.ElementWiseSum)})
		cat.SetAxis(3)
		gs := c.Net().AddGridSample(img, cat.Output(0))
		gs.SetInterpolationMode(mode)
		gs.SetAlignCorners(true)
		gs.SetSampleMode(dsl.SampleClamp)
		return gs.Output(0) // [R, C, I, J]
	}
	inside := func(v *dsl.Tensor, n int64) *dsl.Tensor {
		lo := ew(v, k(v, -1), dsl.ElementWiseLess)
		hi := ew(v, k(v, float64(n)), dsl.ElementWiseGreater)
		out := c.nnUnary(c.Net().AddElementWise(lo, hi, dsl.ElementWiseOr).Output(0), dsl.UnaryNot)
		return c.Net().AddCast(out, dt).Output(0)
	}
	mx := c.unsqueeze(inside(xs, ra.W), 1, 2) // [R, 1, 1, J]
	my := c.unsqueeze(inside(ys, ra.H), 1, 3) // [R, 1, I, 1]
	var samples *dsl.Tensor
	ptype := dsl.PoolingAverage
	if !ra.max {
		samples = sample(xs, ys, dsl.InterpolationLinear)
	} else {
		ptype = dsl.PoolingMax
		// Corners and weights as RoiAlign computes them: the coordinate
		// clamps to [0, size-1]; low = floor, high = min(low+1, size-1).
		corner := func(v *dsl.Tensor, n int64) (lo, hi, frac *dsl.Tensor) {
			v = ew(ew(v, k(v, 0), dsl.ElementWiseMax), k(v, float64(n-1)), dsl.ElementWiseMin)
			lo = c.nnUnary(v, dsl.UnaryFloor)
			hi = ew(ew(lo, k(lo, 1), dsl.ElementWiseSum), k(lo, float64(n-1)), dsl.ElementWiseMin)
			return lo, hi, ew(v, lo, dsl.ElementWiseSub)
		}
		xl, xh, lx := corner(xs, ra.W)
		yl, yh, ly := corner(ys, ra.H)
		hx := ew(k(lx, 1), lx, dsl.ElementWiseSub)
		hy := ew(k(ly, 1), ly, dsl.ElementWiseSub)
		wx := func(t *dsl.Tensor) *dsl.Tensor { return c.unsqueeze(t, 1, 2) } // [R, 1, 1, J]
		wy := func(t *dsl.Tensor) *dsl.Tensor { return c.unsqueeze(t, 1, 3) } // [R, 1, I, 1]
		terms := []*dsl.Tensor{
			ew(sample(xl, yl, dsl.InterpolationNearest), ew(wy(hy), wx(hx), dsl.ElementWiseProd), dsl.ElementWiseProd),
			ew(sample(xh, yl, dsl.InterpolationNearest), ew(wy(hy), wx(lx), dsl.ElementWiseProd), dsl.ElementWiseProd),
			ew(sample(xl, yh, dsl.InterpolationNearest), ew(wy(ly), wx(hx), dsl.ElementWiseProd), dsl.ElementWiseProd),
			ew(sample(xh, yh, dsl.InterpolationNearest), ew(wy(ly), wx(lx), dsl.ElementWiseProd), dsl.ElementWiseProd),
		}
		samples = terms[0]
		for _, t := range terms[1:] {
			samples = ew(samples, t, dsl.ElementWiseMax)
		}
	}
	samples = ew(ew(samples, mx, dsl.ElementWiseProd), my, dsl.ElementWiseProd)
	p := c.Net().AddPoolingNd(samples, ptype, dsl.Dims{srH, srW})
	p.SetStrideNd(dsl.Dims{srH, srW})
	return p.Output(0)
}
