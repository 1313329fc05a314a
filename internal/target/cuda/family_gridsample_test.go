package cuda

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// TestGridSamplePlan: the metadata is (N, C, H, W, Hout, Wout), the launch
// covers the output, and shapes the CPU engine rejects fail the plan.
func TestGridSamplePlan(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float16, dsl.Dims{-1, 3, -1, -1})
	g := net.AddInput("g", dsl.Float16, dsl.Dims{-1, -1, -1, 2})
	l := net.AddGridSample(x, g)
	l.SetInterpolationMode(dsl.InterpolationCubic)
	l.SetSampleMode(dsl.SampleReflect)
	net.MarkOutput(l.Output(0))
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	if k, why := chooseKind(l, nil); k != kindKernel {
		t.Fatalf("grid sample runs as %s (%s)", k, why)
	}
	dims := func(xs, gs []int64) shapeValues {
		return shapeValues{dims: map[*dsl.Tensor][]int64{x: xs, g: gs, l.Output(0): {xs[0], xs[1], gs[1], gs[2]}}}
	}
	m, ln, err := gridSamplePlan(l, dims([]int64{2, 3, 4, 5}, []int64{2, 6, 7, 2}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{2, 3, 4, 5, 6, 7}; !slices.Equal(m, want) || ln.n != 2*3*6*7 {
		t.Errorf("meta %v over %d elements, want %v over %d", m, ln.n, want, 2*3*6*7)
	}
	for _, c := range []struct{ xs, gs []int64 }{
		{[]int64{2, 3, 4, 5}, []int64{1, 6, 7, 2}}, // batch differs
		{[]int64{2, 3, 0, 5}, []int64{2, 6, 7, 2}}, // empty input, nonempty output
	} {
		_, _, err := gridSamplePlan(l, dims(c.xs, c.gs))
		var de *diag.Error
		if !errors.As(err, &de) || de.Code != diag.ShapeMismatch || !strings.Contains(err.Error(), "GridSample") {
			t.Errorf("input %v, grid %v: error %v, want ShapeMismatch naming the layer", c.xs, c.gs, err)
		}
	}
	// An empty output is no error, and no work.
	if _, ln, err := gridSamplePlan(l, dims([]int64{2, 3, 0, 5}, []int64{2, 0, 7, 2})); err != nil || ln.n != 0 {
		t.Errorf("empty output: %d elements, error %v", ln.n, err)
	}
}

// TestGridSampleKernelModes: each interpolation, sample mode and align
// corners setting writes its own kernel with the CPU engine's choices.
func TestGridSampleKernelModes(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.BFloat16, dsl.Dims{1, 2, 3, 4})
	g := net.AddInput("g", dsl.BFloat16, dsl.Dims{1, 5, 6, 2})
	seen := map[string]bool{}
	for _, mode := range []dsl.InterpolationMode{dsl.InterpolationNearest, dsl.InterpolationLinear, dsl.InterpolationCubic} {
		for _, sm := range []dsl.SampleMode{dsl.SampleFill, dsl.SampleClamp, dsl.SampleReflect} {
			for _, align := range []bool{false, true} {
				l := net.AddGridSample(x, g)
				l.SetInterpolationMode(mode)
				l.SetSampleMode(sm)
				l.SetAlignCorners(align)
				src, ok := gridSampleKernel("trtc_kx", l)
				if !ok {
					t.Fatalf("%v %v align %v: no kernel", mode, sm, align)
				}
				want := map[dsl.SampleMode]string{dsl.SampleFill: "mode = 0;", dsl.SampleClamp: "mode = 1;", dsl.SampleReflect: "mode = 2;"}[sm]
				if !strings.Contains(src, want) || !strings.Contains(src, map[bool]string{false: "align = false;", true: "align = true;"}[align]) ||
					!strings.Contains(src, "b2f(gp[0])") || !strings.Contains(src, "f2b((float)s)") {
					t.Errorf("%v %v align %v: kernel does not say %q, its alignment, or bfloat16 loads and stores:\n%s", mode, sm, align, want, src)
				}
				if mode == dsl.InterpolationNearest && !strings.Contains(src, "rint(") || mode == dsl.InterpolationCubic && !strings.Contains(src, "gs_far(") {
					t.Errorf("%v: kernel lacks its interpolation:\n%s", mode, src)
				}
				seen[src] = true
			}
		}
	}
	if len(seen) != 18 {
		t.Errorf("%d distinct kernels, want 18", len(seen))
	}
}
