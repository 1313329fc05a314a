package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerGridSample, runGridSample) }

// runGridSample samples each (image, channel) plane at the grid's points.
// Coordinates follow the common definition (PyTorch's grid_sample, ONNX
// GridSample): unnormalize, then clamp or reflect for bilinear and nearest;
// bicubic applies the sample mode to each of its 16 taps instead.
func runGridSample(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	gl := l.(*dsl.GridSampleLayer)
	x, grid := in[0], in[1]
	xs, gs := x.Shape(), grid.Shape()
	if xs[0] != gs[0] || gs[3] != 2 {
		return nil, layerErr(l, diag.ShapeMismatch, "grid has shape %v; want (%d, Hout, Wout, 2) for input %v", gs, xs[0], xs)
	}
	N, C, H, W := int(xs[0]), int(xs[1]), int(xs[2]), int(xs[3])
	OH, OW := int(gs[1]), int(gs[2])
	outShape := []int64{int64(N), int64(C), int64(OH), int64(OW)}
	if (H == 0 || W == 0) && OH*OW*N*C > 0 {
		return nil, layerErr(l, diag.ShapeMismatch, "cannot sample an empty input %v", xs)
	}
	src, g := x.AsFloat32(), grid.AsFloat32()
	dst := make([]float32, N*C*OH*OW)
	s := gridSampler{mode: gl.InterpolationMode(), align: gl.AlignCorners(), sample: gl.SampleMode(), H: H, W: W}
	parallelFor(N*C, 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			n := p / C
			plane := src[p*H*W : (p+1)*H*W]
			o := dst[p*OH*OW : (p+1)*OH*OW]
			gn := g[n*OH*OW*2 : (n+1)*OH*OW*2]
			for i := range o {
				o[i] = float32(s.at(plane, float64(gn[2*i]), float64(gn[2*i+1])))
			}
		}
	})
	out, err := tensor.FromFloat32s(x.DType(), outShape, dst)
	return []*tensor.Tensor{out}, err
}

type gridSampler struct {
	mode   dsl.InterpolationMode
	align  bool
	sample dsl.SampleMode
	H, W   int
}

// unnormalize maps a grid coordinate in [-1, 1] to a pixel coordinate.
func (s *gridSampler) unnormalize(c float64, size int) float64 {
	if s.align {
		return (c + 1) / 2 * float64(size-1)
	}
	return ((c+1)*float64(size) - 1) / 2
}

// bound applies the clamp or reflect sample mode to a pixel coordinate.
func (s *gridSampler) bound(c float64, size int) float64 {
	switch s.sample {
	case dsl.SampleClamp:
		return min(max(c, 0), float64(size-1))
	case dsl.SampleReflect:
		if s.align {
			c = gridReflect(c, 0, 2*float64(size-1))
		} else {
			c = gridReflect(c, -1, 2*float64(size)-1)
		}
		return min(max(c, 0), float64(size-1))
	}
	return c
}

// gridReflect reflects c into [lo/2, hi/2] (the bounds are given doubled
// so half-pixel edges stay exact), repeatedly.
func gridReflect(c, twiceLo, twiceHi float64) float64 {
	if twiceLo == twiceHi {
		return 0
	}
	lo, span := twiceLo/2, (twiceHi-twiceLo)/2
	c = math.Abs(c - lo)
	extra := math.Mod(c, span)
	if int64(math.Floor(c/span))%2 == 0 {
		return extra + lo
	}
	return span - extra + lo
}

// pixel reads plane at integer (y, x), 0 outside (SampleFill).
func (s *gridSampler) pixel(plane []float32, y, x int) float64 {
	if y < 0 || y >= s.H || x < 0 || x >= s.W {
		return 0
	}
	return float64(plane[y*s.W+x])
}

func (s *gridSampler) at(plane []float32, gx, gy float64) float64 {
	x, y := s.unnormalize(gx, s.W), s.unnormalize(gy, s.H)
	switch s.mode {
	case dsl.InterpolationNearest:
		x, y = s.bound(x, s.W), s.bound(y, s.H)
		return s.pixel(plane, int(math.RoundToEven(y)), int(math.RoundToEven(x)))
	case dsl.InterpolationLinear:
		x, y = s.bound(x, s.W), s.bound(y, s.H)
		x0, y0 := math.Floor(x), math.Floor(y)
		fx, fy := x-x0, y-y0
		ix, iy := int(x0), int(y0)
		return (1-fy)*((1-fx)*s.pixel(plane, iy, ix)+fx*s.pixel(plane, iy, ix+1)) +
			fy*((1-fx)*s.pixel(plane, iy+1, ix)+fx*s.pixel(plane, iy+1, ix+1))
	}
	x0, y0 := math.Floor(x), math.Floor(y)
	wx, wy := gridCubicWeights(x-x0), gridCubicWeights(y-y0)
	sum := 0.0
	for j := 0; j < 4; j++ {
		ty := int(s.bound(y0-1+float64(j), s.H))
		row := 0.0
		for i := 0; i < 4; i++ {
			tx := int(s.bound(x0-1+float64(i), s.W))
			row += wx[i] * s.pixel(plane, ty, tx)
		}
		sum += wy[j] * row
	}
	return sum
}

// gridCubicWeights are the cubic convolution weights (A = -0.75) of the
// taps at offsets -1, 0, 1, 2 from floor(x), for t = x - floor(x).
func gridCubicWeights(t float64) [4]float64 {
	const a = -0.75
	near := func(d float64) float64 { return ((a+2)*d-(a+3))*d*d + 1 }
	far := func(d float64) float64 { return ((a*d-5*a)*d+8*a)*d - 4*a }
	return [4]float64{far(t + 1), near(t), near(1 - t), far(2 - t)}
}
