package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// nnResizeSeparable resizes every axis of x in turn with gathers: for
// scales known only at run time where no grid sample fits (nearest modes,
// cubic with another coefficient or exclude_outside, pytorch_half_pixel,
// ranks other than 4). Along an axis of length n with scale s, output j
// reads input coordinate x = transform(j); nearest gathers round(x),
// linear blends the two neighbours and cubic the four (edge-clamped, as
// ONNX pads with the edge values), with weights computed at run time.
func (c *nodeCtx) nnResizeSeparable(x, scales *dsl.Tensor, mode, transform, nearest string, cubicA float64, exclude bool) (*dsl.Tensor, error) {
	d := x.Dims()
	if !d.IsStatic() {
		return nil, c.Errorf(diag.UnsupportedAttr, "Resize with scales known only at run time needs static input dims; the input has %v", d)
	}
	if scales.Type() != dsl.Float32 {
		scales = c.Net().AddCast(scales, dsl.Float32).Output(0)
	}
	num := func(v float64) *dsl.Tensor {
		h, _ := tensor.FromFloat32([]int64{1}, []float32{float32(v)})
		return c.Constant(h)
	}
	ew := func(a, b *dsl.Tensor, op dsl.ElementWiseOperation) *dsl.Tensor {
		return c.Net().AddElementWise(a, b, op).Output(0)
	}
	clampIdx := func(v *dsl.Tensor, n int64) *dsl.Tensor { // float [out] -> Int64 indices in [0, n-1]
		v = ew(ew(v, num(0), dsl.ElementWiseMax), num(float64(n-1)), dsl.ElementWiseMin)
		return c.Net().AddCast(v, dsl.Int64).Output(0)
	}
	r := len(d)
	y := x
	for a := range r {
		n := float64(d[a])
		s := c.Net().AddSlice(scales, dsl.Dims{int64(a)}, dsl.Dims{1}, dsl.Dims{1}).Output(0)
		outF := c.nnUnary(ew(s, num(n), dsl.ElementWiseProd), dsl.UnaryFloor)
		fl := c.Net().AddFill(dsl.Dims{1}, dsl.FillLinspace, dsl.Float32)
		fl.SetInput(0, c.Net().AddCast(outF, dsl.Int64).Output(0))
		fl.SetAlpha(0)
		fl.SetBeta(1)
		j := fl.Output(0)
		hp := func() *dsl.Tensor {
			return ew(ew(ew(j, num(0.5), dsl.ElementWiseSum), s, dsl.ElementWiseDiv), num(0.5), dsl.ElementWiseSub)
		}
		var xin *dsl.Tensor
		switch transform {
		case "half_pixel":
			xin = hp()
		case "pytorch_half_pixel":
			// 0 where the axis is resized to one element.
			xin = ew(hp(), c.Net().AddCast(ew(outF, num(1), dsl.ElementWiseGreater), dsl.Float32).Output(0), dsl.ElementWiseProd)
		case "asymmetric":
			xin = ew(j, s, dsl.ElementWiseDiv)
		case "tf_half_pixel_for_nn":
			xin = ew(ew(j, num(0.5), dsl.ElementWiseSum), s, dsl.ElementWiseDiv)
		case "align_corners":
			den := ew(ew(s, num(n), dsl.ElementWiseProd), num(1), dsl.ElementWiseSub)
			xin = ew(ew(j, num(n-1), dsl.ElementWiseProd), den, dsl.ElementWiseDiv)
		case "half_pixel_symmetric":
			adj := ew(outF, ew(s, num(n), dsl.ElementWiseProd), dsl.ElementWiseDiv)
			xin = ew(hp(), ew(num(n/2), ew(num(1), adj, dsl.ElementWiseSub), dsl.ElementWiseProd), dsl.ElementWiseSum)
		default:
			return nil, c.Errorf(diag.UnsupportedAttr, "coordinate_transformation_mode=%q with scales known only at run time is not supported", transform)
		}
		shape := make([]int64, r) // weights broadcast along axis a
		for i := range shape {
			shape[i] = 1
		}
		shape[a] = -1
		gather := func(idx *dsl.Tensor) *dsl.Tensor { return c.Net().AddGather(y, idx, a).Output(0) }
		weighted := func(v, w *dsl.Tensor) *dsl.Tensor {
			if v.Type() != dsl.Float32 {
				w = c.Net().AddCast(w, v.Type()).Output(0)
			}
			return ew(v, c.nnReshape(w, shape...), dsl.ElementWiseProd)
		}
		switch mode {
		case "nearest":
			var idx *dsl.Tensor
			switch nearest {
			case "round_prefer_floor":
				idx = c.nnUnary(ew(xin, num(0.5), dsl.ElementWiseSub), dsl.UnaryCeil)
			case "round_prefer_ceil":
				idx = c.nnUnary(ew(xin, num(0.5), dsl.ElementWiseSum), dsl.UnaryFloor)
			case "floor":
				idx = c.nnUnary(xin, dsl.UnaryFloor)
			case "ceil":
				idx = c.nnUnary(xin, dsl.UnaryCeil)
			default:
				return nil, c.Errorf(diag.UnsupportedAttr, "attribute nearest_mode=%q is not supported", nearest)
			}
			y = gather(clampIdx(idx, d[a]))
		case "linear", "bilinear":
			x0 := c.nnUnary(xin, dsl.UnaryFloor)
			t := ew(xin, x0, dsl.ElementWiseSub)
			v0 := weighted(gather(clampIdx(x0, d[a])), ew(num(1), t, dsl.ElementWiseSub))
			v1 := weighted(gather(clampIdx(ew(x0, num(1), dsl.ElementWiseSum), d[a])), t)
			y = ew(v0, v1, dsl.ElementWiseSum)
		case "cubic", "bicubic":
			x0 := c.nnUnary(xin, dsl.UnaryFloor)
			t := ew(xin, x0, dsl.ElementWiseSub)
			// Keys' kernel with coefficient A at distances 1+t, t, 1-t, 2-t.
			near := func(u *dsl.Tensor) *dsl.Tensor { // |u| <= 1: (A+2)u³ - (A+3)u² + 1
				u2 := ew(u, u, dsl.ElementWiseProd)
				u3 := ew(u2, u, dsl.ElementWiseProd)
				return ew(ew(ew(u3, num(cubicA+2), dsl.ElementWiseProd), ew(u2, num(cubicA+3), dsl.ElementWiseProd), dsl.ElementWiseSub), num(1), dsl.ElementWiseSum)
			}
			far := func(u *dsl.Tensor) *dsl.Tensor { // 1 < |u| < 2: A(u³ - 5u² + 8u - 4)
				u2 := ew(u, u, dsl.ElementWiseProd)
				u3 := ew(u2, u, dsl.ElementWiseProd)
				p := ew(ew(u3, ew(u2, num(5), dsl.ElementWiseProd), dsl.ElementWiseSub), ew(ew(u, num(8), dsl.ElementWiseProd), num(4), dsl.ElementWiseSub), dsl.ElementWiseSum)
				return ew(p, num(cubicA), dsl.ElementWiseProd)
			}
			ws := []*dsl.Tensor{
				far(ew(num(1), t, dsl.ElementWiseSum)), near(t),
				near(ew(num(1), t, dsl.ElementWiseSub)), far(ew(num(2), t, dsl.ElementWiseSub)),
			}
			taps := make([]*dsl.Tensor, 4)
			for k := range taps {
				taps[k] = ew(x0, num(float64(k-1)), dsl.ElementWiseSum)
			}
			if exclude {
				// Taps outside the input get weight 0; the rest are
				// renormalized to sum to 1.
				var sum *dsl.Tensor
				for k := range ws {
					in := c.nnUnary(ew(ew(taps[k], num(0), dsl.ElementWiseLess), ew(taps[k], num(n-1), dsl.ElementWiseGreater), dsl.ElementWiseOr), dsl.UnaryNot)
					ws[k] = ew(ws[k], c.Net().AddCast(in, dsl.Float32).Output(0), dsl.ElementWiseProd)
					if sum == nil {
						sum = ws[k]
					} else {
						sum = ew(sum, ws[k], dsl.ElementWiseSum)
					}
				}
				for k := range ws {
					ws[k] = ew(ws[k], sum, dsl.ElementWiseDiv)
				}
			}
			var acc *dsl.Tensor
			for k := range taps {
				v := weighted(gather(clampIdx(taps[k], d[a])), ws[k])
				if acc == nil {
					acc = v
				} else {
					acc = ew(acc, v, dsl.ElementWiseSum)
				}
			}
			y = acc
		default:
			return nil, c.Errorf(diag.UnsupportedAttr, "attribute mode=%q: want nearest, linear or cubic", mode)
		}
	}
	return y, nil
}
