package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// nnResizeGrid describes a Resize the Resize layer cannot do exactly: scales
// known only at run time (the layer would use in/out ratios, ONNX uses the
// scales) or tf_crop_and_resize. It runs as a GridSample over H and W of a
// 4-D input, with the sample coordinates computed from the run-time values.
type nnResizeGrid struct {
	mode      dsl.InterpolationMode
	transform string
	scales    *dsl.Tensor // Float32 [4], or nil with sizes
	sizes     *dsl.Tensor // Int64 [4], or nil with scales
	roi       *dsl.Tensor // Float32 [8] for tf_crop_and_resize
	extrap    float64
}

func (c *nodeCtx) nnResizeByGrid(x *dsl.Tensor, g nnResizeGrid) (*dsl.Tensor, error) {
	d := x.Dims()
	if len(d) != 4 || d[0] < 0 || d[2] < 0 || d[3] < 0 {
		return nil, c.Errorf(diag.UnsupportedAttr, "Resize with %s needs a 4-D input with static N, H and W; the input has %v",
			map[bool]string{true: "tf_crop_and_resize", false: "scales known only at run time in linear or cubic mode"}[g.transform == "tf_crop_and_resize"], d)
	}
	f32 := func(t *dsl.Tensor) *dsl.Tensor {
		if t.Type() != dsl.Float32 {
			return c.Net().AddCast(t, dsl.Float32).Output(0)
		}
		return t
	}
	at := func(t *dsl.Tensor, i int64) *dsl.Tensor { // t[i:i+1]
		return c.Net().AddSlice(t, dsl.Dims{i}, dsl.Dims{1}, dsl.Dims{1}).Output(0)
	}
	num := func(v float64) *dsl.Tensor {
		h, _ := tensor.FromFloat32([]int64{1}, []float32{float32(v)})
		return c.Constant(h)
	}
	ew := func(a, b *dsl.Tensor, op dsl.ElementWiseOperation) *dsl.Tensor {
		return c.Net().AddElementWise(a, b, op).Output(0)
	}
	if g.scales != nil {
		g.scales = f32(g.scales)
		// The grid resizes H and W only: the N and C scales must be 1.
		nc := c.Net().AddSlice(g.scales, dsl.Dims{0}, dsl.Dims{2}, dsl.Dims{1}).Output(0)
		ones, _ := tensor.FromFloat32([]int64{2}, []float32{1, 1})
		c.Net().AddAssertion(ew(nc, c.Constant(ones), dsl.ElementWiseEqual), "Resize: the N and C scales must be 1")
	}
	if g.roi != nil {
		g.roi = f32(g.roi)
	}
	coord := make([]*dsl.Tensor, 2) // normalized grid coordinate per output index, [out]
	outside := make([]*dsl.Tensor, 2)
	for k, a := range []int64{2, 3} {
		n := float64(d[a])
		var outLen *dsl.Tensor // Int64 [1]
		var s *dsl.Tensor      // Float32 [1] scale
		if g.scales != nil {
			s = at(g.scales, a)
			outLen = c.Net().AddCast(c.nnUnary(ew(s, num(n), dsl.ElementWiseProd), dsl.UnaryFloor), dsl.Int64).Output(0)
		} else {
			outLen = at(g.sizes, a)
			if outLen.Type() != dsl.Int64 {
				outLen = c.Net().AddCast(outLen, dsl.Int64).Output(0)
			}
			s = ew(f32(outLen), num(n), dsl.ElementWiseDiv)
		}
		fl := c.Net().AddFill(dsl.Dims{1}, dsl.FillLinspace, dsl.Float32)
		fl.SetInput(0, outLen)
		fl.SetAlpha(0)
		fl.SetBeta(1)
		j := fl.Output(0)
		var xin *dsl.Tensor
		switch g.transform {
		case "half_pixel":
			xin = ew(ew(ew(j, num(0.5), dsl.ElementWiseSum), s, dsl.ElementWiseDiv), num(0.5), dsl.ElementWiseSub)
		case "half_pixel_symmetric":
			// Half pixel, shifted so the rounding of the output length
			// is spread evenly around the center.
			hp := ew(ew(ew(j, num(0.5), dsl.ElementWiseSum), s, dsl.ElementWiseDiv), num(0.5), dsl.ElementWiseSub)
			adj := ew(f32(outLen), ew(s, num(n), dsl.ElementWiseProd), dsl.ElementWiseDiv)
			off := ew(num(n/2), ew(num(1), adj, dsl.ElementWiseSub), dsl.ElementWiseProd)
			xin = ew(hp, off, dsl.ElementWiseSum)
		case "asymmetric":
			xin = ew(j, s, dsl.ElementWiseDiv)
		case "align_corners":
			// ONNX divides by the unrounded resized length minus 1.
			den := ew(ew(s, num(n), dsl.ElementWiseProd), num(1), dsl.ElementWiseSub)
			xin = ew(ew(j, num(n-1), dsl.ElementWiseProd), den, dsl.ElementWiseDiv)
		case "tf_crop_and_resize":
			start, end := at(g.roi, a), at(g.roi, a+4)
			den := ew(ew(f32(outLen), num(1), dsl.ElementWiseSub), num(1), dsl.ElementWiseMax)
			step := ew(ew(ew(end, start, dsl.ElementWiseSub), num(n-1), dsl.ElementWiseProd), den, dsl.ElementWiseDiv)
			xin = ew(ew(start, num(n-1), dsl.ElementWiseProd), ew(j, step, dsl.ElementWiseProd), dsl.ElementWiseSum)
			lo := ew(xin, num(0), dsl.ElementWiseLess)
			hi := ew(xin, num(n-1), dsl.ElementWiseGreater)
			outside[k] = ew(lo, hi, dsl.ElementWiseOr)
		default:
			return nil, c.Errorf(diag.UnsupportedAttr, "coordinate_transformation_mode=%q with scales known only at run time is not supported", g.transform)
		}
		if n > 1 {
			coord[k] = ew(ew(xin, num(2/(n-1)), dsl.ElementWiseProd), num(1), dsl.ElementWiseSub)
		} else {
			coord[k] = ew(ew(xin, num(0), dsl.ElementWiseProd), num(1), dsl.ElementWiseSub)
		}
	}
	gy := c.nnReshape(coord[0], 1, -1, 1, 1)
	gx := c.nnReshape(coord[1], 1, 1, -1, 1)
	zero := func(t *dsl.Tensor) *dsl.Tensor { return ew(t, c.scalarLike(0, t), dsl.ElementWiseProd) }
	gxb, gyb := ew(gx, zero(gy), dsl.ElementWiseSum), ew(gy, zero(gx), dsl.ElementWiseSum)
	cat := c.Net().AddConcatenation([]*dsl.Tensor{gxb, gyb})
	cat.SetAxis(3)
	grid := cat.Output(0)
	if d[0] != 1 {
		grid = ew(grid, c.Constant(tensor.New(dsl.Float32, d[0], 1, 1, 1)), dsl.ElementWiseSum)
	}
	if x.Type() != dsl.Float32 {
		grid = c.Net().AddCast(grid, x.Type()).Output(0)
	}
	gs := c.Net().AddGridSample(x, grid)
	gs.SetInterpolationMode(g.mode)
	gs.SetAlignCorners(true)
	gs.SetSampleMode(dsl.SampleClamp)
	y := gs.Output(0)
	if g.transform == "tf_crop_and_resize" {
		my := c.nnReshape(outside[0], 1, 1, -1, 1)
		mx := c.nnReshape(outside[1], 1, 1, 1, -1)
		out := ew(my, mx, dsl.ElementWiseOr)
		y = c.Net().AddSelect(out, c.scalarLike(g.extrap, y), y).Output(0)
	}
	return y, nil
}
