package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

func init() {
	for _, since := range []int64{16, 20, 22} {
		register(OpInfo{Op: "GridSample", Since: since, Types: "float32, float16, bfloat16",
			Restrictions: "4-D input (2 spatial dims); cubic uses A = -0.75"}, importGridSample)
	}
}

// importGridSample maps GridSample onto a GridSample layer; opset 16 names
// the modes bilinear/bicubic, opset 20 linear/cubic.
func importGridSample(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(2); err != nil {
		return nil, err
	}
	x, grid := c.Input(0), c.Input(1)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	if x.Rank() != 4 {
		return nil, c.Errorf(diag.UnsupportedAttr, "GridSample input has dims %v; only 4-D (N, C, H, W) inputs are supported", x.Dims())
	}
	def := "linear"
	if c.opset < 20 {
		def = "bilinear"
	}
	mode := c.AttrString("mode", def)
	pad := c.AttrString("padding_mode", "zeros")
	align := c.AttrInt("align_corners", 0) != 0
	if c.err != nil {
		return nil, c.err
	}
	l := c.Net().AddGridSample(x, grid)
	switch mode {
	case "bilinear", "linear":
		l.SetInterpolationMode(dsl.InterpolationLinear)
	case "nearest":
		l.SetInterpolationMode(dsl.InterpolationNearest)
	case "bicubic", "cubic":
		l.SetInterpolationMode(dsl.InterpolationCubic)
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute mode=%q is not supported", mode)
	}
	switch pad {
	case "zeros":
		l.SetSampleMode(dsl.SampleFill)
	case "border":
		l.SetSampleMode(dsl.SampleClamp)
	case "reflection":
		l.SetSampleMode(dsl.SampleReflect)
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute padding_mode=%q: want zeros, border or reflection", pad)
	}
	l.SetAlignCorners(align)
	return outputs(l), nil
}
