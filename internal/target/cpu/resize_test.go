package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// resizeRun resizes a 1x4 tensor holding 1, 2, 3, 4 to 1xoutW.
func resizeRun(t *testing.T, outW int64, set func(l *dsl.ResizeLayer)) []float64 {
	t.Helper()
	x := mustTensor(t, tensor.Float32, []int64{1, 4}, []float64{1, 2, 3, 4})
	net := dsl.NewNetwork()
	l := net.AddResize(net.AddInput("x", tensor.Float32, dsl.Dims{1, 4}))
	l.SetOutputDimensions(dsl.Dims{1, outW})
	set(l)
	net.MarkOutput(l.Output(0))
	return runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()].Float64s()
}

func resizeSame(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", name, got, want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-5 {
			t.Fatalf("%s: got %v, want %v", name, got, want)
		}
	}
}

// TestResizeHandWorked checks each coordinate transformation, rounding
// mode and interpolation on values worked out by hand (see the comments).
func TestResizeHandWorked(t *testing.T) {
	linear := func(tr dsl.ResizeCoordinateTransformation) func(l *dsl.ResizeLayer) {
		return func(l *dsl.ResizeLayer) {
			l.SetResizeMode(dsl.InterpolationLinear)
			l.SetCoordinateTransformation(tr)
		}
	}
	// 4 -> 8, asymmetric: x = o/2; the last point (3.5) clamps its right neighbour.
	resizeSame(t, "linear asymmetric", resizeRun(t, 8, linear(dsl.ResizeAsymmetric)), []float64{1, 1.5, 2, 2.5, 3, 3.5, 4, 4})
	// half pixel: x = (o+0.5)/2 - 0.5 = -0.25, 0.25, ...; both ends clamp.
	resizeSame(t, "linear half pixel", resizeRun(t, 8, linear(dsl.ResizeHalfPixel)), []float64{1, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75, 4})
	// align corners: x = o*3/7.
	ac := make([]float64, 8)
	for o := range ac {
		ac[o] = 1 + float64(o)*3/7
	}
	resizeSame(t, "linear align corners", resizeRun(t, 8, linear(dsl.ResizeAlignCorners)), ac)

	nearest := func(tr dsl.ResizeCoordinateTransformation, r dsl.ResizeRoundMode) func(l *dsl.ResizeLayer) {
		return func(l *dsl.ResizeLayer) {
			l.SetCoordinateTransformation(tr)
			l.SetNearestRounding(r)
		}
	}
	// 4 -> 3. asymmetric: x = 0, 4/3, 8/3.
	resizeSame(t, "nearest asymmetric floor", resizeRun(t, 3, nearest(dsl.ResizeAsymmetric, dsl.ResizeRoundFloor)), []float64{1, 2, 3})
	resizeSame(t, "nearest asymmetric ceil", resizeRun(t, 3, nearest(dsl.ResizeAsymmetric, dsl.ResizeRoundCeil)), []float64{1, 3, 3 + 1})
	// half pixel: x = 1/6, 1.5, 17/6.
	resizeSame(t, "nearest half pixel floor", resizeRun(t, 3, nearest(dsl.ResizeHalfPixel, dsl.ResizeRoundFloor)), []float64{1, 2, 3})
	resizeSame(t, "nearest half pixel half up", resizeRun(t, 3, nearest(dsl.ResizeHalfPixel, dsl.ResizeRoundHalfUp)), []float64{1, 3, 4})
	resizeSame(t, "nearest half pixel half down", resizeRun(t, 3, nearest(dsl.ResizeHalfPixel, dsl.ResizeRoundHalfDown)), []float64{1, 2, 4})
	resizeSame(t, "nearest half pixel ceil", resizeRun(t, 3, nearest(dsl.ResizeHalfPixel, dsl.ResizeRoundCeil)), []float64{2, 3, 4})
	// align corners: x = 0, 1.5, 3.
	resizeSame(t, "nearest align corners floor", resizeRun(t, 3, nearest(dsl.ResizeAlignCorners, dsl.ResizeRoundFloor)), []float64{1, 2, 4})
	resizeSame(t, "nearest align corners half up", resizeRun(t, 3, nearest(dsl.ResizeAlignCorners, dsl.ResizeRoundHalfUp)), []float64{1, 3, 4})
	// default is nearest, asymmetric, floor: 4 -> 8 repeats each value.
	resizeSame(t, "defaults", resizeRun(t, 8, func(*dsl.ResizeLayer) {}), []float64{1, 1, 2, 2, 3, 3, 4, 4})

	// Single pixel: half pixel linear gives x = 0.5*4 - 0.5 = 1.5; kUPPER takes index 0.
	single := func(sel dsl.ResizeSelector) func(l *dsl.ResizeLayer) {
		return func(l *dsl.ResizeLayer) {
			linear(dsl.ResizeHalfPixel)(l)
			l.SetSelectorForSinglePixel(sel)
		}
	}
	resizeSame(t, "single formula", resizeRun(t, 1, single(dsl.ResizeSelectorFormula)), []float64{2.5})
	resizeSame(t, "single upper", resizeRun(t, 1, single(dsl.ResizeSelectorUpper)), []float64{1})

	// Cubic, A = -0.75: w(0.5) = 0.59375, w(1.5) = -0.09375. Asymmetric 4 -> 8:
	// x = 0.5 takes indices -1 (clamped to 0), 0, 1, 2: -0.09375*1 + 0.59375*(1+2) - 0.09375*3 = 1.40625.
	// x = 1.5 is interior: cubic reproduces the line, 2.5.
	cub := resizeRun(t, 8, func(l *dsl.ResizeLayer) { l.SetResizeMode(dsl.InterpolationCubic) })
	resizeSame(t, "cubic", cub[1:4], []float64{1.40625, 2, 2.5})
	// Excluding outside drops index -1 and renormalizes: 1.5/1.09375.
	cubEx := resizeRun(t, 8, func(l *dsl.ResizeLayer) {
		l.SetResizeMode(dsl.InterpolationCubic)
		l.SetExcludeOutside(true)
	})
	resizeSame(t, "cubic exclude outside", cubEx[1:2], []float64{1.5 / 1.09375})
	// A = -0.5: w(0.5) = 0.5625, w(1.5) = -0.0625: -0.0625 + 0.5625*3 - 0.1875 = 1.4375.
	cubA := resizeRun(t, 8, func(l *dsl.ResizeLayer) {
		l.SetResizeMode(dsl.InterpolationCubic)
		l.SetCubicCoeff(-0.5)
	})
	resizeSame(t, "cubic A=-0.5", cubA[1:2], []float64{1.4375})
}

// TestResizeBilinearAgainstNaive compares 2-d linear resize of random data
// with a direct bilinear formula.
func TestResizeBilinearAgainstNaive(t *testing.T) {
	rng := newRNG(41)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
		for _, tr := range dsl.AllResizeCoordinateTransformations() {
			t.Run(dt.String()+"/"+tr.String(), func(t *testing.T) {
				const N, C, H, W, OH, OW = 2, 3, 4, 5, 7, 3
				x, xs := randTensor(t, rng, dt, N, C, H, W)
				net := dsl.NewNetwork()
				l := net.AddResize(net.AddInput("x", dt, dsl.Dims{-1, C, H, W}))
				l.SetOutputDimensions(dsl.Dims{N, C, OH, OW})
				l.SetResizeMode(dsl.InterpolationLinear)
				l.SetCoordinateTransformation(tr)
				net.MarkOutput(l.Output(0))
				got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
				coord := func(o, in, out int) float64 {
					switch tr {
					case dsl.ResizeAlignCorners:
						return float64(o) * float64(in-1) / float64(out-1)
					case dsl.ResizeAsymmetric:
						return float64(o) * float64(in) / float64(out)
					}
					return (float64(o)+0.5)*float64(in)/float64(out) - 0.5
				}
				clampi := func(i, n int) int { return min(max(i, 0), n-1) }
				var want []float64
				for p := 0; p < N*C; p++ {
					for oh := 0; oh < OH; oh++ {
						for ow := 0; ow < OW; ow++ {
							y, xx := coord(oh, H, OH), coord(ow, W, OW)
							y0, x0 := int(math.Floor(y)), int(math.Floor(xx))
							fy, fx := y-float64(y0), xx-float64(x0)
							v := func(i, j int) float64 { return xs[(p*H+clampi(i, H))*W+clampi(j, W)] }
							want = append(want, (1-fy)*((1-fx)*v(y0, x0)+fx*v(y0, x0+1))+fy*((1-fx)*v(y0+1, x0)+fx*v(y0+1, x0+1)))
						}
					}
				}
				checkClose(t, got, []int64{N, C, OH, OW}, roundTo(dt, want), 4)
			})
		}
	}
}

// TestResizeScalesAndShapeInput sets the size by scales and by a shape
// tensor given at run time.
func TestResizeScalesAndShapeInput(t *testing.T) {
	x := mustTensor(t, tensor.Float32, []int64{1, 1, 2, 2}, []float64{1, 2, 3, 4})
	net := dsl.NewNetwork()
	in := net.AddInput("x", tensor.Float32, dsl.Dims{1, 1, -1, 2})
	l := net.AddResize(in)
	l.SetScales([]float32{1, 1, 1.5, 2})
	net.MarkOutput(l.Output(0))
	// floor(2*1.5) = 3, floor(2*2) = 4; nearest asymmetric floor with ratio 1/scale:
	// rows x = 0, 2/3, 4/3 -> 0, 0, 1; cols x = 0, .5, 1, 1.5 -> 0, 0, 1, 1.
	got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
	checkClose(t, got, []int64{1, 1, 3, 4}, []float64{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4}, 1)

	net2 := dsl.NewNetwork()
	l2 := net2.AddResize(net2.AddInput("x", tensor.Float32, dsl.Dims{1, 1, 2, 2}))
	l2.SetInput(1, net2.AddInput("size", tensor.Int64, dsl.Dims{4}))
	net2.MarkOutput(l2.Output(0))
	size, _ := tensor.FromInt64([]int64{4}, []int64{1, 1, 1, 4})
	got = runNet(t, net2, map[string]*tensor.Tensor{"x": x, "size": size})[l2.Output(0).Name()]
	checkClose(t, got, []int64{1, 1, 1, 4}, []float64{1, 1, 2, 2}, 1)
	bad, _ := tensor.FromInt64([]int64{4}, []int64{1, 1, -2, 4})
	if err := runErr(net2, map[string]*tensor.Tensor{"x": x, "size": bad}); !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("negative size: got %v, want OutOfRange", err)
	}
	empty, _ := tensor.FromInt64([]int64{4}, []int64{1, 1, 0, 4})
	got = runNet(t, net2, map[string]*tensor.Tensor{"x": x, "size": empty})[l2.Output(0).Name()]
	checkClose(t, got, []int64{1, 1, 0, 4}, nil, 1)
}
