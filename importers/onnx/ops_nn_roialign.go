package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() {
	for _, since := range []int64{10, 16, 22} {
		register(OpInfo{Op: "RoiAlign", Since: since, Types: "float32, float16, bfloat16",
			Restrictions: "mode avg only; sampling_ratio >= 1; static H and W > 1"}, importRoiAlign)
	}
}

// importRoiAlign composes RoiAlign: gather each roi's image, build the
// grid of sample points (sampling_ratio² per output bin, bin-centered),
// sample it bilinearly with a GridSample layer (align corners, border
// clamping, as RoiAlign clamps coordinates in [-1, size]), zero the
// samples outside that range, and average each bin with a pooling layer.
func importRoiAlign(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.nnRequire(3); err != nil {
		return nil, err
	}
	x, rois, bidx := c.Input(0), c.Input(1), c.Input(2)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	if x.Rank() != 4 {
		return nil, c.Errorf(diag.ShapeMismatch, "RoiAlign input has dims %v; want (N, C, H, W)", x.Dims())
	}
	mode := c.AttrString("mode", "avg")
	outH, outW := c.AttrInt("output_height", 1), c.AttrInt("output_width", 1)
	sr := c.AttrInt("sampling_ratio", 0)
	scale := float64(c.AttrFloat("spatial_scale", 1))
	ctm := "output_half_pixel"
	if c.opset >= 16 {
		ctm = c.AttrString("coordinate_transformation_mode", "half_pixel")
	}
	if c.err != nil {
		return nil, c.err
	}
	if mode != "avg" {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute mode=%q: only avg is supported (max mode is not composable)", mode)
	}
	if sr < 1 {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute sampling_ratio=%d: only a fixed ratio >= 1 is supported (the adaptive ratio differs per roi)", sr)
	}
	if outH < 1 || outW < 1 {
		return nil, c.Errorf(diag.UnsupportedAttr, "output_height=%d and output_width=%d must be >= 1", outH, outW)
	}
	H, W := x.Dims()[2], x.Dims()[3]
	if H <= 1 || W <= 1 {
		return nil, c.Errorf(diag.UnsupportedAttr, "RoiAlign needs static H and W > 1; the input has %v", x.Dims())
	}
	off := 0.0
	switch ctm {
	case "half_pixel":
		off = 0.5
	case "output_half_pixel":
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute coordinate_transformation_mode=%q: want half_pixel or output_half_pixel", ctm)
	}
	dt := x.Type()
	if rois.Type() != dt {
		rois = c.Net().AddCast(rois, dt).Output(0)
	}
	col := func(k int64) *dsl.Tensor { // rois[:, k:k+1], [R, 1]
		l := c.Net().AddSlice(rois, dsl.Dims{k}, dsl.Dims{1}, dsl.Dims{1})
		l.SetAxes(dsl.Dims{1})
		v := l.Output(0)
		v = c.nnEW(v, c.nnScalarLike(v, scale), dsl.ElementWiseProd)
		if off != 0 {
			v = c.nnEW(v, c.nnScalarLike(v, off), dsl.ElementWiseSub)
		}
		return v
	}
	x1, y1, x2, y2 := col(0), col(1), col(2), col(3)
	size := func(a, b *dsl.Tensor) *dsl.Tensor {
		s := c.nnEW(b, a, dsl.ElementWiseSub)
		if ctm == "output_half_pixel" {
			s = c.nnEW(s, c.nnScalarLike(s, 1), dsl.ElementWiseMax)
		}
		return s
	}
	rw, rh := size(x1, x2), size(y1, y2)
	// Sample coordinates: start + size*(j+0.5)/(out*sr), [R, out*sr].
	coords := func(start, sz *dsl.Tensor, n int64) *dsl.Tensor {
		m := n * sr
		v := make([]float64, m)
		for j := range v {
			v[j] = (float64(j) + 0.5) / float64(m)
		}
		ct, _ := tensor.FromFloat64s(dt, []int64{1, m}, v)
		return c.nnEW(start, c.nnEW(sz, c.Constant(ct), dsl.ElementWiseProd), dsl.ElementWiseSum)
	}
	xs, ys := coords(x1, rw, outW), coords(y1, rh, outH) // [R, J], [R, I]
	norm := func(v *dsl.Tensor, n int64) *dsl.Tensor {
		v = c.nnEW(v, c.nnScalarLike(v, 2/float64(n-1)), dsl.ElementWiseProd)
		return c.nnEW(v, c.nnScalarLike(v, 1), dsl.ElementWiseSub)
	}
	xn := c.nnUnsqueeze(norm(xs, W), 1, 3) // [R, 1, J, 1]
	yn := c.nnUnsqueeze(norm(ys, H), 2, 3) // [R, I, 1, 1]
	zero := func(t *dsl.Tensor) *dsl.Tensor { return c.nnEW(t, c.nnScalarLike(t, 0), dsl.ElementWiseProd) }
	gx := c.nnEW(xn, zero(yn), dsl.ElementWiseSum)
	gy := c.nnEW(yn, zero(xn), dsl.ElementWiseSum)
	grid := c.Net().AddConcatenation([]*dsl.Tensor{gx, gy})
	grid.SetAxis(3)
	img := c.Net().AddGather(x, bidx, 0).Output(0)
	gs := c.Net().AddGridSample(img, grid.Output(0))
	gs.SetInterpolationMode(dsl.InterpolationLinear)
	gs.SetAlignCorners(true)
	gs.SetSampleMode(dsl.SampleClamp)
	samples := gs.Output(0) // [R, C, I, J]
	// Samples outside [-1, size] read 0.
	inside := func(v *dsl.Tensor, n int64) *dsl.Tensor {
		lo := c.nnEW(v, c.nnScalarLike(v, -1), dsl.ElementWiseLess)
		hi := c.nnEW(v, c.nnScalarLike(v, float64(n)), dsl.ElementWiseGreater)
		out := c.Net().AddElementWise(lo, hi, dsl.ElementWiseOr).Output(0)
		out = c.nnUnary(out, dsl.UnaryNot)
		return c.Net().AddCast(out, dt).Output(0)
	}
	mx := c.nnUnsqueeze(inside(xs, W), 1, 2) // [R, 1, 1, J]
	my := c.nnUnsqueeze(inside(ys, H), 1, 3) // [R, 1, I, 1]
	samples = c.nnEW(c.nnEW(samples, mx, dsl.ElementWiseProd), my, dsl.ElementWiseProd)
	p := c.Net().AddPoolingNd(samples, dsl.PoolingAverage, dsl.Dims{sr, sr})
	p.SetStrideNd(dsl.Dims{sr, sr})
	return outputs(p), nil
}
