package swiglu

import (
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/plugins"
	"github.com/trtc/trtc/tensor"
)

// run puts x through one SwiGLU layer on the CPU engine.
func run(t *testing.T, x *tensor.Tensor, attrs map[string]any) *tensor.Tensor {
	t.Helper()
	net := dsl.NewNetwork()
	in := net.AddInput("x", x.DType(), x.Shape())
	y := net.AddPlugin(Name, []*dsl.Tensor{in}, attrs).Output(0)
	y.SetName("y")
	net.MarkOutput(y)
	out, err := cpu.Run(net, map[string]*tensor.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	return out["y"]
}

func TestCPUMatchesHandValues(t *testing.T) {
	x, _ := tensor.FromFloat32([]int64{1, 4}, []float32{1, -2, 0.5, 3})
	// silu(1) = 0.731059, silu(-2) = -2*sigmoid(-2) = -0.238406,
	// silu(0.5) = 0.311230, silu(3) = 2.857722; sigmoid(2*1) = 0.880797.
	for _, tc := range []struct {
		attrs map[string]any
		want  []float64
	}{
		{nil, []float64{0.731059 * 0.5, -0.238406 * 3}},
		{map[string]any{"gate_first": false}, []float64{0.311230 * 1, 2.857722 * -2}},
		{map[string]any{"beta": 2}, []float64{0.880797 * 0.5, -2 * 0.017986 * 3}},
	} {
		y := run(t, x, tc.attrs)
		if !dsl.Dims(y.Shape()).Equal(dsl.Dims{1, 2}) {
			t.Fatalf("%v: shape %v", tc.attrs, y.Shape())
		}
		for i, g := range y.Float32s() {
			if math.Abs(float64(g)-tc.want[i]) > 1e-5 {
				t.Errorf("%v: y[%d] = %v, want %v", tc.attrs, i, g, tc.want[i])
			}
		}
	}
}

func TestFloat16RoundsOnceLikeTheKernel(t *testing.T) {
	vals := make([]float32, 3*2*10)
	for i := range vals {
		vals[i] = float32(math.Sin(float64(i))) * 4
	}
	x16, err := tensor.FromFloat32s(tensor.Float16, []int64{3, 2, 10}, vals)
	if err != nil {
		t.Fatal(err)
	}
	x32, _ := tensor.FromFloat32([]int64{3, 2, 10}, x16.AsFloat32())
	y16, y32 := run(t, x16, nil), run(t, x32, nil)
	if y16.DType() != tensor.Float16 || !dsl.Dims(y16.Shape()).Equal(dsl.Dims{3, 2, 5}) {
		t.Fatalf("fp16 output %v", y16)
	}
	for i, g := range y16.AsFloat32() {
		if want := tensor.HalfToFloat32(tensor.Float32ToHalf(y32.Float32s()[i])); g != want {
			t.Fatalf("y16[%d] = %v, want %v (the float32 result rounded once)", i, g, want)
		}
	}
}

func TestRulesAndErrors(t *testing.T) {
	p, err := Creator.Create(map[string]any{"beta": float32(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want dsl.Dims }{
		{dsl.Dims{-1, 6}, dsl.Dims{-1, 3}},
		{dsl.Dims{2, -1}, dsl.Dims{2, -1}}, // dynamic last dim: still dynamic
		{dsl.Dims{4}, dsl.Dims{2}},
	} {
		got, err := p.OutputDims([]dsl.Dims{tc.in})
		if err != nil || !got[0].Equal(tc.want) {
			t.Errorf("OutputDims(%v) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := p.OutputDims([]dsl.Dims{{2, 5}}); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "odd") {
		t.Errorf("odd last dim: %v", err)
	}
	if _, err := p.OutputTypes([]dsl.DataType{dsl.Int32}); !errors.Is(err, diag.TypeMismatch) ||
		!strings.Contains(err.Error(), "SwiGLU supports float32, float16") {
		t.Errorf("int32 input: %v", err)
	}
	if _, err := Creator.Create(map[string]any{"gate_first": "yes"}); !errors.Is(err, diag.UnsupportedAttr) ||
		!strings.Contains(err.Error(), `attribute "gate_first" (bool) takes a bool or an integer 0/1, got string "yes"`) {
		t.Errorf("bad gate_first: %v", err)
	}
}

func TestLaunch(t *testing.T) {
	p, _ := Creator.Create(map[string]any{"beta": 1.5, "gate_first": int64(0)})
	k := p.(plugins.CUDAPlugin).CUDAKernel()
	vals := p.(plugins.CUDAPlugin).Values()
	for _, tc := range []struct {
		dims   dsl.Dims
		dt     dsl.DataType
		entry  string
		blocks uint32
	}{
		{dsl.Dims{4, 1000}, dsl.Float32, "swiglu_f32", 8},             // 2000 outputs
		{dsl.Dims{2, 3, 512}, dsl.Float16, "swiglu_f16", 6},           // 1536 outputs
		{dsl.Dims{1 << 20, 4096}, dsl.Float16, "swiglu_f16", 1 << 16}, // capped: grid-stride
		{dsl.Dims{0, 8}, dsl.Float32, "swiglu_f32", 0},                // empty: no launch
	} {
		out := tc.dims.Clone()
		out[len(out)-1] /= 2
		cfg, ws, err := k.Configure(p, plugins.LaunchShapes{In: []dsl.Dims{tc.dims}, Out: []dsl.Dims{out},
			InTypes: []dsl.DataType{tc.dt}, OutTypes: []dsl.DataType{tc.dt}, Attrs: vals})
		if err != nil {
			t.Fatalf("%v: %v", tc.dims, err)
		}
		rows := tensor.Volume(tc.dims[:len(tc.dims)-1])
		if cfg.Entry != tc.entry || cfg.Grid != [3]uint32{tc.blocks, 1, 1} || cfg.Block != [3]uint32{256, 1, 1} || ws != 0 ||
			len(cfg.Args) != 4 || cfg.Args[0] != rows || cfg.Args[1] != tc.dims[len(tc.dims)-1]/2 ||
			cfg.Args[2] != float32(1.5) || cfg.Args[3] != int32(0) {
			t.Errorf("%v %v: %+v", tc.dims, tc.dt, cfg)
		}
	}
}

// TestKernelSource checks what the CUDA target relies on: every entry the
// launch picks is an extern "C" kernel taking two pointers and the four
// scalars, and the source includes nothing.
func TestKernelSource(t *testing.T) {
	if strings.Contains(kernelSource, "#include") {
		t.Error("the kernel source includes a header; NVRTC compiles it alone")
	}
	for _, e := range []string{"swiglu_f32", "swiglu_f16"} {
		re := regexp.MustCompile(`extern "C" __global__ void ` + e + `\(const (float|unsigned short)\* __restrict__ x, (float|unsigned short)\* __restrict__ y,\s+long long rows, long long half, float beta, int gate_first\)`)
		if !re.MatchString(kernelSource) {
			t.Errorf("no extern \"C\" kernel %s with the launch's parameters", e)
		}
	}
}
