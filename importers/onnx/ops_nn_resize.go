package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

func init() {
	const types = "float32, float16, bfloat16"
	const restr = "antialias, and tf_half_pixel_for_nn with nearest_mode round_prefer_ceil or ceil are not supported; " +
		"tf_crop_and_resize, half_pixel_symmetric and run-time scales in linear/cubic mode run as a 4-D GridSample (static N, H, W; cubic only with A=-0.75 and no exclude_outside); " +
		"other run-time scales run axis by axis with gathers (static input dims); with constant scales or sizes, linear resizes the last 3 dims, cubic the last 2"
	for _, since := range []int64{10, 11, 13, 18, 19} {
		register(OpInfo{Op: "Resize", Since: since, Types: types, Restrictions: restr}, importResize)
	}
	for _, since := range []int64{7, 9} {
		register(OpInfo{Op: "Upsample", Since: since, Types: types, Restrictions: restr}, importResize)
	}
}

// importResize maps Resize (and the deprecated Upsample, which is Resize
// with asymmetric coordinates and floor rounding) onto a Resize layer.
func importResize(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(1); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	r := x.Rank()
	upsample := c.node.GetOpType() == "Upsample"
	legacy := upsample || c.opset < 11 // Resize-10 has Upsample's semantics
	mode := c.AttrString("mode", "nearest")
	transform := "asymmetric"
	nearest := "floor"
	if !legacy {
		transform = c.AttrString("coordinate_transformation_mode", "half_pixel")
		nearest = c.AttrString("nearest_mode", "round_prefer_floor")
	}
	if c.AttrInt("antialias", 0) != 0 {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute antialias=1 is not supported")
	}
	if c.err != nil {
		return nil, c.err
	}
	if transform == "tf_crop_and_resize" {
		return c.nnResizeTFCrop(x, mode)
	}
	if transform == "half_pixel_symmetric" {
		return c.nnResizeSymmetric(x, mode)
	}
	if y, ok, err := c.nnResizeRuntimeScales(x, mode, transform, nearest, !(upsample && c.opset < 9), legacy); ok || err != nil {
		return []*dsl.Tensor{y}, err
	}
	l := c.Net().AddResize(x)
	switch mode {
	case "nearest":
		l.SetResizeMode(dsl.InterpolationNearest)
	case "linear", "bilinear", "trilinear":
		l.SetResizeMode(dsl.InterpolationLinear)
	case "cubic", "bicubic":
		l.SetResizeMode(dsl.InterpolationCubic)
		l.SetCubicCoeff(c.AttrFloat("cubic_coeff_a", -0.75))
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute mode=%q: want nearest, linear or cubic", mode)
	}
	l.SetExcludeOutside(c.AttrInt("exclude_outside", 0) != 0)
	roundModes := map[string]dsl.ResizeRoundMode{
		"round_prefer_floor": dsl.ResizeRoundHalfDown, "round_prefer_ceil": dsl.ResizeRoundHalfUp,
		"floor": dsl.ResizeRoundFloor, "ceil": dsl.ResizeRoundCeil,
	}
	rm, ok := roundModes[nearest]
	if !ok {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute nearest_mode=%q: want round_prefer_floor, round_prefer_ceil, floor or ceil", nearest)
	}
	switch transform {
	case "half_pixel":
		l.SetCoordinateTransformation(dsl.ResizeHalfPixel)
	case "pytorch_half_pixel":
		// Half pixel, except that a dim resized to one element reads 0.
		l.SetCoordinateTransformation(dsl.ResizeHalfPixel)
		l.SetSelectorForSinglePixel(dsl.ResizeSelectorUpper)
	case "align_corners":
		l.SetCoordinateTransformation(dsl.ResizeAlignCorners)
	case "asymmetric":
		l.SetCoordinateTransformation(dsl.ResizeAsymmetric)
	case "tf_half_pixel_for_nn":
		// (x+0.5)/scale is the half-pixel coordinate plus 0.5: rounding
		// it half down is ceil of the half-pixel one, flooring it rounds
		// the half-pixel one half up.
		if mode != "nearest" {
			return nil, c.Errorf(diag.UnsupportedAttr, "coordinate_transformation_mode=tf_half_pixel_for_nn is supported only with mode=nearest")
		}
		l.SetCoordinateTransformation(dsl.ResizeHalfPixel)
		switch nearest {
		case "round_prefer_floor":
			rm = dsl.ResizeRoundCeil
		case "floor":
			rm = dsl.ResizeRoundHalfUp
		default:
			return nil, c.Errorf(diag.UnsupportedAttr, "coordinate_transformation_mode=tf_half_pixel_for_nn with nearest_mode=%q is not supported", nearest)
		}
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute coordinate_transformation_mode=%q is not supported", transform)
	}
	l.SetNearestRounding(rm)

	// Where the scales or sizes come from, by version.
	scalesIn, sizesIn := -1, -1
	switch {
	case upsample && c.opset < 9:
		fs := c.AttrFloats("scales", nil)
		if len(fs) != r {
			return nil, c.Errorf(diag.UnsupportedAttr, "attribute scales=%v needs %d values", fs, r)
		}
		l.SetScales(fs)
		return outputs(l), c.err
	case legacy:
		scalesIn = 1
	default:
		scalesIn, sizesIn = 2, 3
	}
	axes := c.AttrInts("axes", nil)
	full := func(v []float64, def float64) ([]float64, error) {
		if axes == nil {
			if len(v) != r {
				return nil, c.Errorf(diag.ShapeMismatch, "%d scales or sizes for an input of rank %d", len(v), r)
			}
			return v, nil
		}
		if len(v) != len(axes) {
			return nil, c.Errorf(diag.ShapeMismatch, "%d scales or sizes for %d axes", len(v), len(axes))
		}
		out := make([]float64, r)
		for i := range out {
			out[i] = def
		}
		for i, a := range axes {
			ax, err := c.nnAxis("axes", a, r)
			if err != nil {
				return nil, err
			}
			out[ax] = v[i]
		}
		return out, nil
	}
	hasSizes := sizesIn >= 0 && c.nnGiven(sizesIn)
	if hasSizes {
		if v, ok := c.ConstFloats(sizesIn); ok {
			d := x.Dims()
			if axes != nil {
				// Sizes for the listed axes; the others keep their dims.
				for i := range d {
					if d[i] < 0 {
						return nil, c.Errorf(diag.UnsupportedAttr, "sizes with axes need static input dims; the input has %v", d)
					}
				}
			}
			sz, err := full(v, -1)
			if err != nil {
				return nil, err
			}
			f := make([]float64, r)
			for i := range f {
				f[i] = sz[i]
				if sz[i] < 0 { // an axis not listed keeps its size
					f[i] = float64(d[i])
				}
			}
			if p := c.AttrString("keep_aspect_ratio_policy", "stretch"); p != "stretch" {
				f, err = c.nnResizeKeepAspect(x.Dims(), f, axes, p)
				if err != nil {
					return nil, err
				}
			}
			out := make(dsl.Dims, r)
			for i := range out {
				out[i] = int64(f[i])
			}
			l.SetOutputDimensions(out)
			return outputs(l), nil
		}
		if axes != nil {
			return nil, c.Errorf(diag.UnsupportedAttr, "sizes known only at run time cannot be combined with axes")
		}
		s := c.Input(sizesIn)
		if s.Type() != dsl.Int64 && s.Type() != dsl.Int32 {
			s = c.Net().AddCast(s, dsl.Int64).Output(0)
		}
		l.SetInput(1, s)
		return outputs(l), nil
	}
	if !c.nnGiven(scalesIn) {
		return nil, c.Errorf(diag.InvalidNode, "Resize needs scales or sizes")
	}
	if v, ok := c.ConstFloats(scalesIn); ok {
		v, err := full(v, 1)
		if err != nil {
			return nil, err
		}
		fs := make([]float32, len(v))
		for i := range v {
			fs[i] = float32(v[i])
		}
		l.SetScales(fs)
		return outputs(l), nil
	}
	if axes != nil {
		return nil, c.Errorf(diag.UnsupportedAttr, "scales known only at run time cannot be combined with axes")
	}
	// Scales known only at run time: compute floor(shape * scales) as the
	// output shape (the layer then uses in/out as the coordinate ratio,
	// exact where in*scale is an integer).
	shape := c.Net().AddCast(c.Net().AddShape(x).Output(0), dsl.Float32).Output(0)
	sc := c.Input(scalesIn)
	if sc.Type() != dsl.Float32 {
		sc = c.Net().AddCast(sc, dsl.Float32).Output(0)
	}
	out := c.nnUnary(c.Net().AddElementWise(shape, sc, dsl.ElementWiseProd).Output(0), dsl.UnaryFloor)
	l.SetInput(1, c.Net().AddCast(out, dsl.Int64).Output(0))
	return outputs(l), nil
}

// nnResizeKeepAspect applies keep_aspect_ratio_policy: one scale for the
// resized axes, the smallest (not_larger) or largest (not_smaller) of
// size/in, and output dims round(in*scale).
func (c *nodeCtx) nnResizeKeepAspect(in dsl.Dims, sizes []float64, axes []int64, policy string) ([]float64, error) {
	r := len(in)
	list := make([]int, 0, r)
	if axes == nil {
		for i := range r {
			list = append(list, i)
		}
	} else {
		for _, a := range axes {
			ax, _ := c.nnAxis("axes", a, r)
			list = append(list, ax)
		}
	}
	var scale float64
	for i, ax := range list {
		if in[ax] <= 0 {
			return nil, c.Errorf(diag.UnsupportedAttr, "keep_aspect_ratio_policy needs static input dims; the input has %v", in)
		}
		s := sizes[ax] / float64(in[ax])
		switch {
		case i == 0:
			scale = s
		case policy == "not_larger":
			scale = math.Min(scale, s)
		case policy == "not_smaller":
			scale = math.Max(scale, s)
		default:
			return nil, c.Errorf(diag.UnsupportedAttr, "attribute keep_aspect_ratio_policy=%q: want stretch, not_larger or not_smaller", policy)
		}
	}
	out := append([]float64{}, sizes...)
	for _, ax := range list {
		out[ax] = math.Round(float64(in[ax]) * scale)
	}
	return out, nil
}

// nnGridResizable reports whether a resize can run as a GridSample: linear,
// or cubic with the grid sample's coefficient -0.75 and no exclusion.
func (c *nodeCtx) nnGridResizable(mode, transform string) (nnResizeGrid, bool) {
	g := nnResizeGrid{transform: transform}
	switch mode {
	case "linear", "bilinear":
		g.mode = dsl.InterpolationLinear
	case "cubic", "bicubic":
		if c.AttrFloat("cubic_coeff_a", -0.75) != -0.75 || c.AttrInt("exclude_outside", 0) != 0 {
			return g, false
		}
		g.mode = dsl.InterpolationCubic
	default:
		return g, false
	}
	switch transform {
	case "half_pixel", "half_pixel_symmetric", "asymmetric", "align_corners", "tf_crop_and_resize":
		return g, true
	}
	return g, false
}

// nnResizeTFCrop resizes the roi box [start, end] (fractions of each dim)
// of a 4-D input to the requested size; samples outside the input take
// extrapolation_value.
func (c *nodeCtx) nnResizeTFCrop(x *dsl.Tensor, mode string) ([]*dsl.Tensor, error) {
	g, ok := c.nnGridResizable(mode, "tf_crop_and_resize")
	if !ok {
		return nil, c.Errorf(diag.UnsupportedAttr, "coordinate_transformation_mode=tf_crop_and_resize is supported for linear, and cubic with cubic_coeff_a=-0.75 and exclude_outside=0; mode is %q", mode)
	}
	if !c.HasInput(1) {
		return nil, c.Errorf(diag.InvalidNode, "tf_crop_and_resize needs the roi input")
	}
	if c.AttrInts("axes", nil) != nil {
		return nil, c.Errorf(diag.UnsupportedAttr, "tf_crop_and_resize with axes is not supported")
	}
	g.roi = c.Input(1)
	g.extrap = float64(c.AttrFloat("extrapolation_value", 0))
	switch {
	case c.nnGiven(3):
		g.sizes = c.Input(3)
	case c.nnGiven(2):
		g.scales = c.Input(2)
	default:
		return nil, c.Errorf(diag.InvalidNode, "Resize needs scales or sizes")
	}
	y, err := c.nnResizeByGrid(x, g)
	if err != nil {
		return nil, err
	}
	return []*dsl.Tensor{y}, nil
}

// nnResizeRuntimeScales runs a resize whose scales are known only at run
// time as a GridSample (linear, cubic A=-0.75, 4-D) or axis by axis with
// gathers, so that coordinates use the scales as ONNX does. Constant
// scales that resize more dims than the Resize layer can in the mode
// take the gather path too. scalesInput says the scales are an input (not
// Upsample-7's attribute), legacy that they are input 1 (Upsample-9 and
// Resize-10). ok is false when the node is not such a resize.
func (c *nodeCtx) nnResizeRuntimeScales(x *dsl.Tensor, mode, transform, nearest string, scalesInput, legacy bool) (*dsl.Tensor, bool, error) {
	scalesIn := 2
	if legacy {
		scalesIn = 1
	}
	if !scalesInput || (!legacy && c.nnGiven(3)) || !c.nnGiven(scalesIn) || c.AttrInts("axes", nil) != nil {
		return nil, false, nil
	}
	v, known := c.ConstFloats(scalesIn)
	if known && !nnResizeBeyondLayer(mode, v) {
		return nil, false, nil
	}
	d := x.Dims()
	if g, ok := c.nnGridResizable(mode, transform); ok && !known && len(d) == 4 && d[0] >= 0 && d[2] >= 0 && d[3] >= 0 {
		g.scales = c.Input(scalesIn)
		y, err := c.nnResizeByGrid(x, g)
		return y, true, err
	}
	y, err := c.nnResizeSeparable(x, c.Input(scalesIn), mode, transform, nearest,
		float64(c.AttrFloat("cubic_coeff_a", -0.75)), c.AttrInt("exclude_outside", 0) != 0)
	return y, true, err
}

// nnResizeSymmetric imports half_pixel_symmetric (opset 19), which the
// Resize layer's transformations cannot express, as a grid resize.
func (c *nodeCtx) nnResizeSymmetric(x *dsl.Tensor, mode string) ([]*dsl.Tensor, error) {
	g, ok := c.nnGridResizable(mode, "half_pixel_symmetric")
	if !ok {
		return nil, c.Errorf(diag.UnsupportedAttr, "coordinate_transformation_mode=half_pixel_symmetric is supported for linear, and cubic with cubic_coeff_a=-0.75 and exclude_outside=0; mode is %q", mode)
	}
	if c.AttrInts("axes", nil) != nil || c.AttrString("keep_aspect_ratio_policy", "stretch") != "stretch" {
		return nil, c.Errorf(diag.UnsupportedAttr, "half_pixel_symmetric with axes or keep_aspect_ratio_policy is not supported")
	}
	switch {
	case c.nnGiven(3):
		g.sizes = c.Input(3)
	case c.nnGiven(2):
		g.scales = c.Input(2)
	default:
		return nil, c.Errorf(diag.InvalidNode, "Resize needs scales or sizes")
	}
	y, err := c.nnResizeByGrid(x, g)
	if err != nil {
		return nil, err
	}
	return []*dsl.Tensor{y}, nil
}

// nnGiven reports whether optional input i is given and not an empty
// constant (Resize-11 passes an empty tensor for the unused one of scales
// and sizes).
func (c *nodeCtx) nnGiven(i int) bool {
	if !c.HasInput(i) {
		return false
	}
	t, ok := c.Const(i)
	return !ok || t.Len() > 0
}

// nnResizeBeyondLayer reports whether constant scales resize dims the
// Resize layer cannot in this mode (linear: the last 3, cubic: the last 2).
func nnResizeBeyondLayer(mode string, scales []float64) bool {
	limit := len(scales)
	switch mode {
	case "linear", "bilinear", "trilinear":
		limit = 3
	case "cubic", "bicubic":
		limit = 2
	}
	for i := 0; i < len(scales)-limit; i++ {
		if scales[i] != 1 {
			return true
		}
	}
	return false
}
