package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func gridSampleRun(t *testing.T, x *tensor.Tensor, grid []float64, gh, gw int64, set func(l *dsl.GridSampleLayer)) *tensor.Tensor {
	t.Helper()
	xs := x.Shape()
	g := mustTensor(t, x.DType(), []int64{xs[0], gh, gw, 2}, grid)
	net := dsl.NewNetwork()
	l := net.AddGridSample(net.AddInput("x", x.DType(), dsl.Dims{-1, xs[1], xs[2], xs[3]}), net.AddInput("g", x.DType(), dsl.Dims{-1, -1, -1, 2}))
	set(l)
	net.MarkOutput(l.Output(0))
	return runNet(t, net, map[string]*tensor.Tensor{"x": x, "g": g})[l.Output(0).Name()]
}

// TestGridSampleHandWorked samples a 2x2 image [[1, 2], [3, 4]] at points
// whose values are worked out by hand in the comments.
func TestGridSampleHandWorked(t *testing.T) {
	x := mustTensor(t, tensor.Float32, []int64{1, 1, 2, 2}, []float64{1, 2, 3, 4})
	// Points (x, y): (0, 0); (-1, -1); (0.2, -2).
	// Without align corners, pixel = ((g+1)*2 - 1)/2: (0.5, 0.5); (-0.5, -0.5); (0.7, -1.5).
	grid := []float64{0, 0, -1, -1, 0.2, -2}
	cases := []struct {
		name   string
		mode   dsl.InterpolationMode
		sample dsl.SampleMode
		want   []float64
	}{
		// (0.5,0.5) averages all four; (-0.5,-0.5) keeps 1/4 of pixel (0,0);
		// y = -1.5 has both rows outside.
		{"linear fill", dsl.InterpolationLinear, dsl.SampleFill, []float64{2.5, 0.25, 0}},
		// Clamp: (-0.5,-0.5) -> (0,0) = 1; (0.7,-1.5) -> (0.7,0) = 0.3*1+0.7*2 = 1.7.
		{"linear clamp", dsl.InterpolationLinear, dsl.SampleClamp, []float64{2.5, 1, 1.7}},
		// Reflect about -0.5 and 1.5: -0.5 -> -0.5 -> clamped 0; -1.5 -> 0.5:
		// rows 0 and 1 half each: 0.5*1.7 + 0.5*(0.3*3+0.7*4) = 2.7.
		{"linear reflect", dsl.InterpolationLinear, dsl.SampleReflect, []float64{2.5, 1, 2.7}},
		// Nearest rounds half to even: 0.5 -> 0, so (0,0) = 1; (-0.5) -> -0 = 0 -> 1;
		// (0.7, -1.5): x -> 1, y -> -2 outside -> 0.
		{"nearest fill", dsl.InterpolationNearest, dsl.SampleFill, []float64{1, 1, 0}},
		// Clamp y to 0: (1, 0) = 2.
		{"nearest clamp", dsl.InterpolationNearest, dsl.SampleClamp, []float64{1, 1, 2}},
	}
	for _, tc := range cases {
		got := gridSampleRun(t, x, grid, 1, 3, func(l *dsl.GridSampleLayer) {
			l.SetInterpolationMode(tc.mode)
			if !l.SetSampleMode(tc.sample) {
				t.Fatalf("%s: sample mode refused", tc.name)
			}
		})
		checkClose(t, got, []int64{1, 1, 1, 3}, tc.want, 1)
	}
	// With align corners, -1 and 1 are the corner pixel centers.
	got := gridSampleRun(t, x, []float64{-1, -1, 1, 1, 1, -1, 0, 0}, 2, 2, func(l *dsl.GridSampleLayer) { l.SetAlignCorners(true) })
	checkClose(t, got, []int64{1, 1, 2, 2}, []float64{1, 4, 2, 2.5}, 1)
}

// naiveGridSample is the reference: bicubic and bilinear written as explicit
// sums over taps, with the sample mode applied to coordinates.
func naiveGridSample(xs []float64, N, C, H, W int, g []float64, OH, OW int, mode dsl.InterpolationMode, align bool, sm dsl.SampleMode) []float64 {
	unnorm := func(c float64, n int) float64 {
		if align {
			return (c + 1) * float64(n-1) / 2
		}
		return ((c+1)*float64(n) - 1) / 2
	}
	reflect := func(c float64, lo, hi float64) float64 { // reflect into [lo, hi]
		if lo == hi {
			return lo
		}
		for c < lo || c > hi {
			if c < lo {
				c = 2*lo - c
			}
			if c > hi {
				c = 2*hi - c
			}
		}
		return c
	}
	fix := func(c float64, n int) float64 {
		switch sm {
		case dsl.SampleClamp:
			return math.Max(0, math.Min(c, float64(n-1)))
		case dsl.SampleReflect:
			if align {
				c = reflect(c, 0, float64(n-1))
			} else {
				c = reflect(c, -0.5, float64(n)-0.5)
			}
			return math.Max(0, math.Min(c, float64(n-1)))
		}
		return c
	}
	cubic := func(d float64) float64 {
		d = math.Abs(d)
		const a = -0.75
		if d <= 1 {
			return (a+2)*d*d*d - (a+3)*d*d + 1
		} else if d < 2 {
			return a*d*d*d - 5*a*d*d + 8*a*d - 4*a
		}
		return 0
	}
	var out []float64
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			px := func(y, x int) float64 {
				if y < 0 || y >= H || x < 0 || x >= W {
					return 0
				}
				return xs[((n*C+c)*H+y)*W+x]
			}
			for i := 0; i < OH*OW; i++ {
				gx, gy := g[(n*OH*OW+i)*2], g[(n*OH*OW+i)*2+1]
				x, y := unnorm(gx, W), unnorm(gy, H)
				v := 0.0
				switch mode {
				case dsl.InterpolationLinear:
					x, y = fix(x, W), fix(y, H)
					for _, ty := range []float64{math.Floor(y), math.Floor(y) + 1} {
						for _, tx := range []float64{math.Floor(x), math.Floor(x) + 1} {
							v += (1 - math.Abs(y-ty)) * (1 - math.Abs(x-tx)) * px(int(ty), int(tx))
						}
					}
				case dsl.InterpolationCubic:
					for dy := -1.0; dy <= 2; dy++ {
						for dx := -1.0; dx <= 2; dx++ {
							ty, tx := math.Floor(y)+dy, math.Floor(x)+dx
							v += cubic(y-ty) * cubic(x-tx) * px(int(fix(ty, H)), int(fix(tx, W)))
						}
					}
				}
				out = append(out, v)
			}
		}
	}
	return out
}

func TestGridSampleAgainstNaive(t *testing.T) {
	rng := newRNG(51)
	for _, mode := range []dsl.InterpolationMode{dsl.InterpolationLinear, dsl.InterpolationCubic} {
		for _, sm := range []dsl.SampleMode{dsl.SampleFill, dsl.SampleClamp, dsl.SampleReflect} {
			for _, align := range []bool{false, true} {
				for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
					name := mode.String() + "/" + sm.String() + "/" + dt.String()
					if align {
						name += "/align"
					}
					t.Run(name, func(t *testing.T) {
						const N, C, H, W, OH, OW = 2, 2, 4, 5, 3, 4
						x, xs := randTensor(t, rng, dt, N, C, H, W)
						// Grid points in [-1.6, 1.6) reach outside the image.
						gv := randFloats(rng, N*OH*OW*2, -1.6, 1.6)
						gv = roundTo(dt, gv)
						got := gridSampleRun(t, x, gv, OH, OW, func(l *dsl.GridSampleLayer) {
							l.SetInterpolationMode(mode)
							l.SetSampleMode(sm)
							l.SetAlignCorners(align)
						})
						want := naiveGridSample(xs, N, C, H, W, gv, OH, OW, mode, align, sm)
						checkClose(t, got, []int64{N, C, OH, OW}, roundTo(dt, want), 16)
					})
				}
			}
		}
	}
}

func TestGridSampleBatchMismatchAtRunTime(t *testing.T) {
	x := mustTensor(t, tensor.Float32, []int64{2, 1, 2, 2}, make([]float64, 8))
	g := mustTensor(t, tensor.Float32, []int64{1, 1, 1, 2}, []float64{0, 0})
	net := dsl.NewNetwork()
	l := net.AddGridSample(net.AddInput("x", tensor.Float32, dsl.Dims{-1, 1, 2, 2}), net.AddInput("g", tensor.Float32, dsl.Dims{-1, 1, 1, 2}))
	net.MarkOutput(l.Output(0))
	if err := runErr(net, map[string]*tensor.Tensor{"x": x, "g": g}); !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("got %v, want ShapeMismatch", err)
	}
}
