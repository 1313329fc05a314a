package cuda

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/dsltest"
	"github.com/trtc/trtc/internal/ir"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// emulateResize runs the resize kernel's algorithm in Go, statement for
// statement, on the metadata resizePlan wrote: products and sums rounded
// to float32 one at a time, as __fmul_rn and __fadd_rn do.
func emulateResize(m []int64, n int64, in []float32) []float32 {
	r, D := int(m[0]), int(m[1])
	od := m[2 : 2+r]
	is := m[2+r : 2+2*r]
	ax := m[2+2*r : 2+2*r+D]
	K := m[2+2*r+D : 2+2*r+2*D]
	to := m[2+2*r+2*D : 2+2*r+3*D]
	out := make([]float32, n)
	for i := int64(0); i < n; i++ {
		tp := make([][]int64, D)
		cnt := make([]int, D)
		t := make([]int, D)
		acc := make([]float32, D)
		off := make([]int64, D+1)
		rem, base := i, int64(0)
		none := false
		k := D - 1
		for d := r - 1; d >= 0; d-- {
			c := rem % od[d]
			rem /= od[d]
			if k >= 0 && ax[k] == int64(d) {
				tp[k] = m[to[k]+c*K[k]:]
				q := 0
				for q < int(K[k]) && tp[k][q] >= 0 {
					q++
				}
				cnt[k] = q
				none = none || q == 0
				k--
			} else {
				base += c * is[d]
			}
		}
		if D == 0 {
			out[i] = in[base]
			continue
		}
		if none {
			continue
		}
		off[0] = base
		for j := 0; j < D; j++ {
			off[j+1] = off[j] + (tp[j][0]>>32)*is[ax[j]]
		}
		var val float32
		for {
			val = in[off[D]]
			j := D - 1
			for {
				w := math.Float32frombits(uint32(tp[j][t[j]]))
				acc[j] = acc[j] + float32(w*val)
				if t[j]++; t[j] < cnt[j] {
					break
				}
				val = acc[j]
				acc[j], t[j] = 0, 0
				if j--; j < 0 {
					break
				}
			}
			if j < 0 {
				break
			}
			for q := j; q < D; q++ {
				off[q+1] = off[q] + (tp[q][t[q]]>>32)*is[ax[q]]
			}
		}
		out[i] = val
	}
	return out
}

// resizeCase is one resize layer to check: its input dims and how it is
// set up.
type resizeCase struct {
	in  dsl.Dims
	set func(n *dsl.Network, l *dsl.ResizeLayer)
}

func resizeCases() []resizeCase {
	var cs []resizeCase
	outDims := func(d dsl.Dims) func(*dsl.Network, *dsl.ResizeLayer) {
		return func(_ *dsl.Network, l *dsl.ResizeLayer) { l.SetOutputDimensions(d) }
	}
	type geom struct {
		in   dsl.Dims
		size func(*dsl.Network, *dsl.ResizeLayer)
	}
	geoms := []geom{
		{dsl.Dims{2, 3, 5}, outDims(dsl.Dims{2, 7, 2})}, // up and down
		{dsl.Dims{1, 6, 4}, outDims(dsl.Dims{1, 3, 8})}, // exact halves
		{dsl.Dims{2, 5, 3}, outDims(dsl.Dims{2, 1, 1})}, // single pixel
		{dsl.Dims{3, 4, 6}, outDims(dsl.Dims{3, 4, 6})}, // identity
		{dsl.Dims{1, 4, 5}, outDims(dsl.Dims{1, 0, 5})}, // empty
		{dsl.Dims{2, 4, 5}, func(_ *dsl.Network, l *dsl.ResizeLayer) { l.SetScales([]float32{1, 2.5, 0.6}) }},
		{dsl.Dims{2, 3, 5}, func(_ *dsl.Network, l *dsl.ResizeLayer) { l.SetScales([]float32{1, 1, 1.5}) }},
		{dsl.Dims{2, 6, 5}, func(_ *dsl.Network, l *dsl.ResizeLayer) { l.SetScales([]float32{1, 0.5, 1.3}) }},
		{dsl.Dims{2, 3, 5}, func(_ *dsl.Network, l *dsl.ResizeLayer) { l.SetScales([]float32{1, 1.2, 1.1}) }}, // same dims, not identity
		{dsl.Dims{2, 3, 5}, func(n *dsl.Network, l *dsl.ResizeLayer) {
			l.SetInput(1, n.AddConstant(dsl.Dims{3}, dsl.Int64Weights(2, 5, 9)).Output(0))
		}},
		{dsl.Dims{2, 3, 5}, func(n *dsl.Network, l *dsl.ResizeLayer) {
			l.SetInput(1, n.AddConstant(dsl.Dims{3}, dsl.Int32Weights(2, 2, 4)).Output(0))
		}},
	}
	for _, g := range geoms {
		for _, mode := range []dsl.InterpolationMode{dsl.InterpolationNearest, dsl.InterpolationLinear, dsl.InterpolationCubic} {
			for _, tr := range dsl.AllResizeCoordinateTransformations() {
				for _, sel := range dsl.AllResizeSelectors() {
					rounds := []dsl.ResizeRoundMode{dsl.ResizeRoundFloor}
					excl := []bool{false}
					coeffs := []float32{-0.75}
					switch mode {
					case dsl.InterpolationNearest:
						rounds = dsl.AllResizeRoundModes()
					case dsl.InterpolationLinear:
						excl = []bool{false, true}
					default:
						excl = []bool{false, true}
						coeffs = []float32{-0.75, -0.5}
					}
					for _, rm := range rounds {
						for _, ex := range excl {
							for _, a := range coeffs {
								cs = append(cs, resizeCase{g.in, func(n *dsl.Network, l *dsl.ResizeLayer) {
									g.size(n, l)
									l.SetResizeMode(mode)
									l.SetCoordinateTransformation(tr)
									l.SetSelectorForSinglePixel(sel)
									l.SetNearestRounding(rm)
									l.SetExcludeOutside(ex)
									l.SetCubicCoeff(a)
								}})
							}
						}
					}
				}
			}
		}
	}
	// Nearest over many axes (every one resized), and a rank above 8
	// whose leading dim stays.
	for _, tr := range dsl.AllResizeCoordinateTransformations() {
		for _, rm := range dsl.AllResizeRoundModes() {
			cs = append(cs, resizeCase{dsl.Dims{2, 3, 4, 5, 2}, func(_ *dsl.Network, l *dsl.ResizeLayer) {
				l.SetOutputDimensions(dsl.Dims{3, 5, 2, 7, 4})
				l.SetCoordinateTransformation(tr)
				l.SetNearestRounding(rm)
			}})
		}
	}
	cs = append(cs, resizeCase{dsl.Dims{2, 1, 2, 1, 2, 1, 2, 1, 2}, outDims(dsl.Dims{2, 2, 1, 3, 2, 1, 3, 2, 1})})
	// Linear over three axes, cubic over two, of a rank-4 input.
	cs = append(cs, resizeCase{dsl.Dims{2, 3, 4, 5}, func(_ *dsl.Network, l *dsl.ResizeLayer) {
		l.SetOutputDimensions(dsl.Dims{2, 5, 7, 3})
		l.SetResizeMode(dsl.InterpolationLinear)
		l.SetCoordinateTransformation(dsl.ResizeHalfPixel)
	}})
	cs = append(cs, resizeCase{dsl.Dims{2, 3, 4, 5}, func(_ *dsl.Network, l *dsl.ResizeLayer) {
		l.SetOutputDimensions(dsl.Dims{2, 3, 9, 2})
		l.SetResizeMode(dsl.InterpolationCubic)
		l.SetCoordinateTransformation(dsl.ResizeAlignCorners)
		l.SetExcludeOutside(true)
	}})
	return cs
}

// TestResizeMetaMatchesCPU plans every resize case, runs the kernel's
// algorithm on its metadata (emulateResize) and compares the result bit
// for bit with the CPU engine's on random data.
func TestResizeMetaMatchesCPU(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := resizeCases()
	for ci, c := range cases {
		net := dsl.NewNetwork()
		x := net.AddInput("x", dsl.Float32, c.in)
		l := net.AddResize(x)
		c.set(net, l)
		net.MarkOutput(l.Output(0))
		if err := net.Err(); err != nil {
			t.Fatalf("case %d: %v", ci, err)
		}
		name := fmt.Sprintf("case %d (%v %v %v, in %v)", ci, l.ResizeMode(), l.CoordinateTransformation(), l.NearestRounding(), c.in)
		if f := familyOf(l); f == nil {
			t.Fatalf("%s: no kernel family", name)
		} else if k, why := familyKind(f, l, nil); k != kindKernel {
			t.Fatalf("%s: runs as %s (%s)", name, k, why)
		}
		dims, values, err := resolveShapes(net, map[string][]int64{"x": c.in})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m, g, err := resizePlan(l, shapeValues{dims: dims, values: values})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := volume(dims[l.Output(0)]); g.n != want {
			t.Fatalf("%s: launch over %d elements, want %d", name, g.n, want)
		}
		data := make([]float32, volume(c.in))
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		xt, err := tensor.FromFloat32s(dsl.Float32, c.in, data)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := cpueng.New(net)
		if err != nil {
			t.Fatal(err)
		}
		res, err := eng.Run(context.Background(), map[string]*tensor.Tensor{"x": xt})
		if err != nil {
			t.Fatalf("%s: cpu: %v", name, err)
		}
		want := res[l.Output(0).Name()].AsFloat32()
		got := emulateResize(m, g.n, data)
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: element %d is %g, the CPU engine's %g", name, i, got[i], want[i])
			}
		}
	}
	t.Logf("%d resize cases", len(cases))
}

// TestResizePlanErrors: parameter values the layer cannot run with fail
// the plan with the CPU engine's error codes, never a panic.
func TestResizePlanErrors(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 3, 4, 5})
	sz := net.AddInput("sz", dsl.Int64, dsl.Dims{4})
	l := net.AddResize(x)
	l.SetInput(1, sz)
	l.SetResizeMode(dsl.InterpolationCubic)
	net.MarkOutput(l.Output(0))
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		vals []int64
		out  []int64
		code diag.Code
	}{
		{nil, []int64{2, 3, 8, 10}, diag.UnsupportedNode},                  // values not known
		{[]int64{2, 3, 8}, []int64{2, 3, 8}, diag.ShapeMismatch},           // too few
		{[]int64{2, 3, -1, 10}, []int64{2, 3, 8, 10}, diag.OutOfRange},     // negative
		{[]int64{2, 4, 8, 10}, []int64{2, 4, 8, 10}, diag.UnsupportedAttr}, // cubic resizes dim 1
		{[]int64{2, 3, 8, 10}, []int64{2, 3, 8, 11}, diag.ShapeMismatch},   // output dims disagree
	} {
		v := shapeValues{dims: map[*dsl.Tensor][]int64{x: {2, 3, 4, 5}, sz: {4}, l.Output(0): c.out}, values: map[*dsl.Tensor][]int64{}}
		if c.vals != nil {
			v.values[sz] = c.vals
		}
		_, _, err := resizePlan(l, v)
		var de *diag.Error
		if !errors.As(err, &de) || de.Code != c.code || !strings.Contains(err.Error(), "Resize") {
			t.Errorf("values %v: error %v, want code %v naming the layer", c.vals, err, c.code)
		}
	}
	// An empty dim resized to a nonempty one.
	v := shapeValues{dims: map[*dsl.Tensor][]int64{x: {2, 3, 0, 5}, sz: {4}, l.Output(0): {2, 3, 2, 5}}, values: map[*dsl.Tensor][]int64{sz: {2, 3, 2, 5}}}
	if _, _, err := resizePlan(l, v); !errors.Is(err, diag.ShapeMismatch) {
		t.Errorf("empty dim resized: error %v, want ShapeMismatch", err)
	}
	// Sizes read from data keep the layer on the host.
	if k, why := chooseKind(l, map[*dsl.Tensor]bool{sz: true}); k != kindHost || why == "" {
		t.Errorf("sizes from data: kind %s (%s), want host", k, why)
	}
}

// TestResizeAndGridSampleNetworkOnGPU lowers the dsltest resize network:
// no resize or grid sample runs on the host.
func TestResizeAndGridSampleNetworkOnGPU(t *testing.T) {
	net := dsltest.Networks()["resize"](rand.New(rand.NewPCG(1, 2)))
	p, srcs, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for i, s := range p.Steps {
		l := net.TopoLayers()[i]
		if l.Type() != dsl.LayerResize && l.Type() != dsl.LayerGridSample {
			continue
		}
		seen++
		if s.Kind != kindKernel || srcs[s.Kernel] == "" {
			t.Errorf("%s runs as %s (%s)", dsl.LayerString(l), s.Kind, s.Why)
		}
	}
	if seen != 4 {
		t.Errorf("%d resize and grid sample layers, want 4", seen)
	}
}

// TestResizeAndGridSampleKernelsCompile writes the kernel of every dtype
// and mode of both families into one network and compiles them together
// with NVRTC (where it is installed): the grid sample helpers of
// different kernels must not collide.
func TestResizeAndGridSampleKernelsCompile(t *testing.T) {
	net := dsl.NewNetwork()
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16} {
		x := net.AddInput("x"+dt.String(), dt, dsl.Dims{1, 2, 3, 4})
		g := net.AddInput("g"+dt.String(), dt, dsl.Dims{1, 5, 6, 2})
		for _, mode := range []dsl.InterpolationMode{dsl.InterpolationNearest, dsl.InterpolationLinear, dsl.InterpolationCubic} {
			r := net.AddResize(x)
			r.SetOutputDimensions(dsl.Dims{1, 2, 5, 7})
			r.SetResizeMode(mode)
			net.MarkOutput(r.Output(0))
			r2 := net.AddResize(x)
			r2.SetInput(1, net.AddConstant(dsl.Dims{4}, dsl.Int64Weights(1, 2, 6, 2)).Output(0))
			r2.SetResizeMode(mode)
			net.MarkOutput(r2.Output(0))
			for _, sm := range []dsl.SampleMode{dsl.SampleFill, dsl.SampleClamp, dsl.SampleReflect} {
				for _, align := range []bool{false, true} {
					gs := net.AddGridSample(x, g)
					gs.SetInterpolationMode(mode)
					gs.SetSampleMode(sm)
					gs.SetAlignCorners(align)
					net.MarkOutput(gs.Output(0))
				}
			}
		}
	}
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	for _, l := range net.Layers() {
		if f := familyOf(l); f != nil {
			if _, ok := f.source("trtc_kx", l); !ok {
				t.Errorf("no kernel for %s (%v)", dsl.LayerString(l), l.Input(0).Type())
			}
		}
	}
	p, srcs, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kernels := map[string]bool{}
	for i, s := range p.Steps {
		l := net.TopoLayers()[i]
		if l.Type() == dsl.LayerResize || l.Type() == dsl.LayerGridSample {
			if s.Kind != kindKernel {
				t.Errorf("%s runs as %s (%s)", dsl.LayerString(l), s.Kind, s.Why)
			}
			kernels[s.Kernel] = true
		}
	}
	// Per type: 2 resize kernels (with and without the sizes input; the
	// mode is in the metadata) and 3 modes × 6 grid sample kernels.
	if len(kernels) != 3*(2+3*6) {
		t.Errorf("%d distinct kernels, want %d", len(kernels), 3*(2+3*6))
	}
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	delete(srcs, fixedModule) // TestGeneratedKernelsCompile compiles it
	if _, err := compileKernels(srcs, "sm_80"); err != nil {
		t.Fatal(err)
	}
}
