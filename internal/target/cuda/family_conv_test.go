package cuda

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/tensor"
)

// familyCase is a small network around one layer of a family's kind, in
// one float type: the family tests lower it, plan it and compile its
// kernel.
type familyCase struct {
	name  string
	build func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer)
}

var familyFloats = []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16}

// familyWeights are n random values in [-1, 1) of type dt.
func familyWeights(rng *rand.Rand, dt dsl.DataType, n int64) dsl.Weights {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.Float64()*2 - 1)
	}
	t, err := tensor.FromFloat32s(dt, []int64{n}, v)
	if err != nil {
		panic(err)
	}
	return dsl.NewWeights(t)
}

// familyNet finishes a case's network: l's output is the network's.
func familyNet(t *testing.T, net *dsl.Network, l dsl.Layer) {
	t.Helper()
	l.Output(0).SetName("y")
	net.MarkOutput(l.Output(0))
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
}

var convCases = []familyCase{
	{"3d-weights-groups-stride-dilation-padding", func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer) {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dsl.Dims{2, 4, 5, 6, 7})
		c := n.AddConvolutionNd(x, 6, dsl.Dims{2, 3, 2}, familyWeights(rng, dt, 6*2*12), familyWeights(rng, dt, 6))
		c.SetNbGroups(2)
		c.SetStrideNd(dsl.Dims{1, 2, 3})
		c.SetDilationNd(dsl.Dims{2, 1, 2})
		c.SetPrePadding(dsl.Dims{1, 0, 2})
		c.SetPostPadding(dsl.Dims{0, 2, 1})
		return n, c
	}},
	{"3d-float32-weights-same-upper", func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer) {
		// Float32 weights of an fp16/bf16 layer are rounded to its type.
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dsl.Dims{1, 3, 4, 5, 6})
		c := n.AddConvolutionNd(x, 2, dsl.Dims{3, 3, 2}, familyWeights(rng, dsl.Float32, 2*3*18), familyWeights(rng, dsl.Float32, 2))
		c.SetStrideNd(dsl.Dims{2, 1, 2})
		c.SetPaddingMode(dsl.PaddingSameUpper)
		return n, c
	}},
	{"3d-depthwise-no-bias", func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer) {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dsl.Dims{2, 3, 3, 4, 5})
		c := n.AddConvolutionNd(x, 6, dsl.Dims{3, 1, 3}, familyWeights(rng, dt, 6*9), dsl.Weights{})
		c.SetNbGroups(3)
		c.SetPaddingNd(dsl.Dims{1, 0, 1})
		return n, c
	}},
	{"2d-tensor-kernel-and-bias", func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer) {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dsl.Dims{2, 4, 7, 6})
		w := n.AddInput("w", dt, dsl.Dims{6, 2, 3, 2})
		b := n.AddInput("b", dt, dsl.Dims{6})
		c := n.AddConvolutionNd(x, 6, dsl.Dims{3, 2}, dsl.Weights{}, dsl.Weights{})
		c.SetInput(1, w)
		c.SetInput(2, b)
		c.SetNbGroups(2)
		c.SetStrideNd(dsl.Dims{2, 1})
		c.SetDilationNd(dsl.Dims{1, 2})
		c.SetPaddingMode(dsl.PaddingSameLower)
		return n, c
	}},
	{"2d-constant-kernel-input-bias-weights", func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer) {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dsl.Dims{1, 3, 6, 5})
		w := n.AddConstant(dsl.Dims{4, 3, 2, 2}, familyWeights(rng, dt, 4*3*4)).Output(0)
		c := n.AddConvolutionNd(x, 4, dsl.Dims{2, 2}, dsl.Weights{}, familyWeights(rng, dt, 4))
		c.SetInput(1, w)
		c.SetPaddingMode(dsl.PaddingExplicitRoundUp)
		c.SetStrideNd(dsl.Dims{2, 2})
		c.SetPrePadding(dsl.Dims{1, 0})
		return n, c
	}},
	{"2d-weights-tensor-bias", func(dt dsl.DataType, rng *rand.Rand) (*dsl.Network, dsl.Layer) {
		// kindConv would drop a bias given as input 2.
		n := dsl.NewNetwork()
		x := n.AddInput("x", dt, dsl.Dims{2, 2, 5, 4})
		b := n.AddInput("b", dt, dsl.Dims{3})
		c := n.AddConvolutionNd(x, 3, dsl.Dims{3, 3}, familyWeights(rng, dt, 3*2*9), dsl.Weights{})
		c.SetInput(2, b)
		c.SetPaddingNd(dsl.Dims{1, 1})
		return n, c
	}},
}

// familyStep lowers net and returns the plan step of l and the kernels'
// sources.
func familyStep(t *testing.T, net *dsl.Network, l dsl.Layer) (step, map[string]string) {
	t.Helper()
	p, srcs, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(net.TopoLayers(), l)
	if i < 0 {
		t.Fatalf("%s is not in the network", dsl.LayerString(l))
	}
	return p.Steps[i], srcs
}

// familyKernel lowers net and returns the source of l's kernel, and every
// kernel's by name, failing unless l runs as its family's kernel with the
// parameters a launch passes (outputs, inputs, weights).
func familyKernel(t *testing.T, net *dsl.Network, l dsl.Layer) (string, map[string]string) {
	t.Helper()
	s, srcs := familyStep(t, net, l)
	f := familyOf(l)
	if s.Kind != kindKernel || s.Kernel == "" || f == nil {
		t.Fatalf("%s runs as %q (%s), want its family's kernel", dsl.LayerString(l), s.Kind, s.Why)
	}
	src := srcs[s.Kernel]
	if got, want := familyParams(t, src, s.Kernel), familyArgs(l, f); got != want {
		t.Fatalf("%s: the kernel takes %d pointers after its fault slot; a launch passes %d:\n%s", dsl.LayerString(l), got, want, src)
	}
	return src, srcs
}

// familyStaticValues are the shape values of a network whose dims are all
// static.
func familyStaticValues(net *dsl.Network) shapeValues {
	v := shapeValues{dims: map[*dsl.Tensor][]int64{}, values: map[*dsl.Tensor][]int64{}}
	for _, l := range net.TopoLayers() {
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil {
				v.dims[t] = t.Dims()
			}
		}
		for i := 0; i < l.NbOutputs(); i++ {
			v.dims[l.Output(i)] = l.Output(i).Dims()
		}
	}
	return v
}

// checkFamilyCases lowers every case in every float type: the layer runs
// as its family's kernel, whose source has the family's signature, and the
// plan covers the output; with NVRTC the kernels compile.
func checkFamilyCases(t *testing.T, cases []familyCase) {
	all := map[string]string{}
	for _, c := range cases {
		for _, dt := range familyFloats {
			t.Run(fmt.Sprintf("%s/%v", c.name, dt), func(t *testing.T) {
				net, l := c.build(dt, rand.New(rand.NewPCG(1, 2)))
				familyNet(t, net, l)
				s, srcs := familyStep(t, net, l)
				if s.Kind != kindKernel || s.Kernel == "" {
					t.Fatalf("%s runs as %q (%s), want a family kernel", dsl.LayerString(l), s.Kind, s.Why)
				}
				f := familyOf(l)
				if f == nil {
					t.Fatalf("%s has no family", dsl.LayerString(l))
				}
				if got, want := familyParams(t, srcs[s.Kernel], s.Kernel), familyArgs(l, f); got != want {
					t.Errorf("the kernel takes %d pointers after its fault slot; a launch passes %d (outputs, inputs, weights):\n%s", got, want, srcs[s.Kernel])
				}
				m, g, err := f.plan(l, familyStaticValues(net))
				if err != nil {
					t.Fatal(err)
				}
				if len(m) == 0 || g.grid.X < 1 {
					t.Errorf("plan gives meta %v, launch %+v", m, g)
				}
				for k, v := range srcs {
					all[k] = v
				}
			})
		}
	}
	compileWithNVRTC(t, all)
}

// compileWithNVRTC compiles the kernels srcs as an engine would, where
// NVRTC is installed (it needs no GPU); elsewhere it says so.
func compileWithNVRTC(t *testing.T, srcs map[string]string) {
	t.Helper()
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		t.Logf("no NVRTC, kernels not compiled: %v", err)
		return
	}
	if _, err := compileKernels(srcs, "sm_80"); err != nil {
		t.Fatal(err)
	}
}

// familyParams counts the parameters of kernel name in src after meta, n
// and the fault slot.
func familyParams(t *testing.T, src, name string) int {
	t.Helper()
	head := `extern "C" __global__ void ` + name + "(const i64* __restrict__ m, i64 n, unsigned long long* fault"
	i := strings.Index(src, head)
	if i < 0 {
		t.Fatalf("no kernel %s with the family signature in:\n%s", name, src)
	}
	rest := src[i+len(head):]
	return strings.Count(rest[:strings.Index(rest, ")")], ",")
}

// familyArgs is the number of pointers a launch of l passes after the
// fault slot (cudaContext.run): outputs, inputs that are not nil, weights.
func familyArgs(l dsl.Layer, f *kernelFamily) int {
	n := l.NbOutputs()
	for i := 0; i < l.NbInputs(); i++ {
		if l.Input(i) != nil {
			n++
		}
	}
	if f.weights != nil {
		n += len(f.weights(l))
	}
	return n
}

func TestConvFamilyCases(t *testing.T) { checkFamilyCases(t, convCases) }

// TestConvFamilyTakes: the 2-d float convolutions with the kernel as
// weights stay on kindConv; every other one is the family's.
func TestConvFamilyTakes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{1, 2, 5, 5})
	builtin := n.AddConvolutionNd(x, 3, dsl.Dims{3, 3}, familyWeights(rng, dsl.Float32, 3*2*9), familyWeights(rng, dsl.Float32, 3))
	familyNet(t, n, builtin)
	if s, _ := familyStep(t, n, builtin); s.Kind != kindConv || familyOf(builtin) != nil {
		t.Errorf("a 2-d convolution with weights runs as %q, family %v; want kindConv", s.Kind, familyOf(builtin) != nil)
	}
	for _, c := range convCases {
		_, l := c.build(dsl.Float32, rng)
		if familyOf(l) == nil {
			t.Errorf("%s: the family does not take it", c.name)
		}
	}
}

// TestConvFamilyWeights: the kernel and bias held as weights are the
// family's weights, in the kernel's order; those given as inputs are not.
func TestConvFamilyWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		c    familyCase
		want []int64 // the weights' counts
	}{
		{convCases[0], []int64{6 * 2 * 12, 6}},
		{convCases[2], []int64{6 * 9}},
		{convCases[3], nil},
		{convCases[4], []int64{4}},
	} {
		_, l := tc.c.build(dsl.Float32, rng)
		var got []int64
		for _, w := range familyOf(l).weights(l) {
			got = append(got, w.Count())
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: weights of %v values, want %v", tc.c.name, got, tc.want)
		}
	}
	// The signature names them after the inputs: kernel tensor w, then
	// the bias weights.
	_, l := convCases[4].build(dsl.Float16, rng)
	src, ok := convKernel("k", l.(convLike), false)
	if !ok || !strings.Contains(src, "const unsigned short* __restrict__ x, const unsigned short* __restrict__ w, const unsigned short* __restrict__ bias)") {
		t.Errorf("signature of a tensor kernel with bias weights:\n%s", src)
	}
	// Float32 weights of an fp16 layer are rounded to fp16 as they load.
	_, l = convCases[1].build(dsl.Float16, rng)
	src, _ = convKernel("k", l.(convLike), false)
	if !strings.Contains(src, "const float* __restrict__ w, const float* __restrict__ bias)") || !strings.Contains(src, "h2f(f2h(w[") || !strings.Contains(src, "h2f(f2h(bias[k]))") {
		t.Errorf("fp16 convolution with float32 weights:\n%s", src)
	}
}

// TestConvFamilyPlan checks the metadata of a small 3-d convolution and
// the plan's errors for shapes the CPU engine refuses at run time.
func TestConvFamilyPlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	net, l := convCases[0].build(dsl.Float32, rng)
	familyNet(t, net, l)
	v := familyStaticValues(net)
	m, g, err := familyOf(l).plan(l, v)
	if err != nil {
		t.Fatal(err)
	}
	// Input 5x6x7, kernel 2x3x2, dilation 2,1,2, stride 1,2,3, padding
	// 1,0,2 / 0,2,1: outputs (5+1-3)/1+1 = 4, (6+2-3)/2+1 = 3, (7+3-3)/3+1 = 3.
	want := []int64{3, 4, 6, 2, 5, 6, 7, 4, 3, 3, 2, 3, 2, 1, 2, 3, 2, 1, 2, 1, 0, 2}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("meta %v, want %v", m, want)
	}
	if g.n != 2*6*4*3*3 || g.grid.X != 2 {
		t.Errorf("launch %+v, want n %d on two blocks", g, 2*6*4*3*3)
	}
	// A tensor kernel of the wrong shape at run time.
	net, l = convCases[3].build(dsl.Float32, rng)
	familyNet(t, net, l)
	v = familyStaticValues(net)
	v.dims[l.Input(1)] = []int64{6, 2, 3, 3}
	if _, _, err := familyOf(l).plan(l, v); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "want shape [6 2 3 2]") {
		t.Errorf("a 6x2x3x3 kernel for 6x2x3x2: %v", err)
	}
	v = familyStaticValues(net)
	v.dims[l.Input(2)] = []int64{5}
	if _, _, err := familyOf(l).plan(l, v); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "bias has 5 values, want 6") {
		t.Errorf("a bias of 5 values for 6 maps: %v", err)
	}
}
