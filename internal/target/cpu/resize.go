package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerResize, runResize) }

// runResize resamples one dim at a time: nearest, linear and cubic
// interpolation are all separable, so an N-d resize is a sequence of 1-d
// resizes, each a small weighted gather along one axis.
func runResize(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	rl := l.(*dsl.ResizeLayer)
	x := in[0]
	shape := x.Shape()
	r := len(shape)
	scales := rl.Scales()
	var out []int64
	switch {
	case convOptional(in, 1) != nil:
		out = in[1].Int64Values()
		if len(out) != r {
			return nil, layerErr(l, diag.ShapeMismatch, "output shape tensor holds %d values; the input has %d dims", len(out), r)
		}
		scales = nil // a dynamic resize ignores static scales
		for i, d := range out {
			if d < 0 {
				return nil, layerErr(l, diag.OutOfRange, "output shape tensor holds %v; dim %d is negative", out, i)
			}
		}
	case scales != nil:
		out = make([]int64, r)
		for i, s := range scales {
			out[i] = dsl.ResizeScaledDim(shape[i], s)
		}
	default:
		out = rl.OutputDimensions()
	}
	limit := map[dsl.InterpolationMode]int{dsl.InterpolationNearest: 8, dsl.InterpolationLinear: 3, dsl.InterpolationCubic: 2}[rl.ResizeMode()]
	for i := 0; i < r; i++ {
		if i < r-limit && out[i] != shape[i] {
			return nil, layerErr(l, diag.UnsupportedAttr, "%v resize changes dim %d (%d to %d); it may only resize the last %d dims", rl.ResizeMode(), i, shape[i], out[i], limit)
		}
		if shape[i] == 0 && out[i] != 0 {
			return nil, layerErr(l, diag.ShapeMismatch, "cannot resize empty dim %d to %d", i, out[i])
		}
	}
	data := x.AsFloat32()
	cur := append([]int64{}, shape...)
	for a := r - 1; a >= 0; a-- {
		identity := out[a] == cur[a] && (scales == nil || scales[a] == 1)
		if identity || tensor.Volume(out) == 0 {
			continue
		}
		scale := float32(0)
		if scales != nil {
			scale = scales[a]
		}
		taps := ResizeTaps(rl, int(cur[a]), int(out[a]), scale)
		data = resizeAxis(data, cur, a, int(out[a]), taps)
		cur[a] = out[a]
	}
	if tensor.Volume(out) == 0 {
		data = nil
	}
	res, err := tensor.FromFloat32s(x.DType(), out, data)
	return []*tensor.Tensor{res}, err
}

// ResizeTap is one input index and its weight for one output index.
type ResizeTap struct {
	Idx int
	W   float32
}

// ResizeTaps works out, for every output index along a dim, which input
// indices contribute and with what weights. scale is 0 when the dims, not
// scales, define the ratio.
func ResizeTaps(rl *dsl.ResizeLayer, inLen, outLen int, scale float32) [][]ResizeTap {
	ratio := float64(inLen) / float64(outLen)
	if scale > 0 {
		ratio = 1 / float64(scale)
	}
	a := float64(rl.CubicCoeff())
	cubic := func(x float64) float64 {
		x = math.Abs(x)
		switch {
		case x <= 1:
			return ((a+2)*x-(a+3))*x*x + 1
		case x < 2:
			return ((a*x-5*a)*x+8*a)*x - 4*a
		}
		return 0
	}
	taps := make([][]ResizeTap, outLen)
	for o := range taps {
		var x float64
		switch {
		case outLen == 1 && rl.SelectorForSinglePixel() == dsl.ResizeSelectorUpper:
			x = 0
		case rl.CoordinateTransformation() == dsl.ResizeAlignCorners:
			if outLen > 1 {
				x = float64(o) * float64(inLen-1) / float64(outLen-1)
			}
		case rl.CoordinateTransformation() == dsl.ResizeAsymmetric:
			x = float64(o) * ratio
		default: // half pixel
			x = (float64(o)+0.5)*ratio - 0.5
		}
		var idx []int
		var w []float64
		switch rl.ResizeMode() {
		case dsl.InterpolationNearest:
			var i float64
			switch rl.NearestRounding() {
			case dsl.ResizeRoundHalfUp:
				i = math.Floor(x + 0.5)
			case dsl.ResizeRoundHalfDown:
				i = math.Ceil(x - 0.5)
			case dsl.ResizeRoundFloor:
				i = math.Floor(x)
			default:
				i = math.Ceil(x)
			}
			idx, w = []int{int(i)}, []float64{1}
		case dsl.InterpolationLinear:
			x0 := math.Floor(x)
			f := x - x0
			idx, w = []int{int(x0), int(x0) + 1}, []float64{1 - f, f}
		default:
			x0 := math.Floor(x)
			f := x - x0
			idx = []int{int(x0) - 1, int(x0), int(x0) + 1, int(x0) + 2}
			w = []float64{cubic(1 + f), cubic(f), cubic(1 - f), cubic(2 - f)}
		}
		total := 0.0
		for k := range idx {
			if rl.ExcludeOutside() && (idx[k] < 0 || idx[k] >= inLen) {
				w[k] = 0
			}
			total += w[k]
			idx[k] = min(max(idx[k], 0), inLen-1)
		}
		for k := range idx {
			if rl.ExcludeOutside() && total != 0 {
				w[k] /= total
			}
			if w[k] != 0 {
				taps[o] = append(taps[o], ResizeTap{idx[k], float32(w[k])})
			}
		}
	}
	return taps
}

// resizeAxis resamples data of shape along axis a to outLen elements.
func resizeAxis(data []float32, shape []int64, a, outLen int, taps [][]ResizeTap) []float32 {
	outer := int(tensor.Volume(shape[:a]))
	inner := int(tensor.Volume(shape[a+1:]))
	inLen := int(shape[a])
	res := make([]float32, outer*outLen*inner)
	parallelFor(outer*outLen, max(1, 4096/max(inner, 1)), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			p, o := j/outLen, j%outLen
			dst := res[j*inner : (j+1)*inner]
			for _, t := range taps[o] {
				src := data[(p*inLen+t.Idx)*inner : (p*inLen+t.Idx+1)*inner]
				for i, v := range src {
					dst[i] += t.W * v
				}
			}
		}
	})
	return res
}
