package cuda

import (
	"errors"
	"hash/fnv"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// u128 and pcgJump mirror the kernel's trtc_u128 and trtc_pcg_jump, so
// the jump-ahead the kernel relies on is checked against math/rand/v2.
type u128 struct{ hi, lo uint64 }

func mul128(a, b u128) u128 {
	hi, lo := bits.Mul64(a.lo, b.lo)
	return u128{hi + a.hi*b.lo + a.lo*b.hi, lo}
}

func add128(a, b u128) u128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	return u128{a.hi + b.hi + c, lo}
}

func pcgJump(delta uint64) (am, ac u128) {
	cm, cc := u128{2549297995355413924, 4865540595714422341}, u128{6364136223846793005, 1442695040888963407}
	one := u128{0, 1}
	m, c := one, u128{}
	for ; delta != 0; delta >>= 1 {
		if delta&1 != 0 {
			m, c = mul128(m, cm), add128(mul128(c, cm), cc)
		}
		cc = mul128(add128(cm, one), cc)
		cm = mul128(cm, cm)
	}
	return m, c
}

func pcgOut(s u128) uint64 {
	hi := s.hi
	hi ^= hi >> 32
	hi *= 0xda942042e4dd58b5
	hi ^= hi >> 48
	return hi * (s.lo | 1)
}

// uniformMirror is the kernel's RandomUniform for n elements run by
// threads threads (each jumps to its first element, then by the stride).
func uniformMirror(name string, n, threads int64, alpha, beta float64) []float64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	out := make([]float64, n)
	span := beta - alpha
	for t := int64(0); t < threads && t < n; t++ {
		am, ac := pcgJump(uint64(t) + 1)
		s := add128(mul128(u128{dsl.FillSeed, h.Sum64()}, am), ac)
		am, ac = pcgJump(uint64(threads))
		for i := t; i < n; i += threads {
			u := float64(pcgOut(s)&(1<<53-1)) * 0x1p-53
			out[i] = alpha + span*u
			s = add128(mul128(s, am), ac)
		}
	}
	return out
}

// normalMirror is the kernel's RandomNormal for n elements run by threads
// threads: element i's draws are 2i+1 and 2i+2, each thread jumps to its
// first element's and then by twice the stride; the arithmetic is the
// CPU engine's (Go's log and cos stand for the GPU's).
func normalMirror(name string, n, threads int64, mean, scale float64) []float64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	out := make([]float64, n)
	m1, c1 := pcgJump(1)
	for t := int64(0); t < threads && t < n; t++ {
		am, ac := pcgJump(2*uint64(t) + 1)
		s := add128(mul128(u128{dsl.FillSeed, h.Sum64()}, am), ac)
		am, ac = pcgJump(2 * uint64(threads))
		for i := t; i < n; i += threads {
			x1, x2 := pcgOut(s), pcgOut(add128(mul128(s, m1), c1))
			u1 := float64(x1&(1<<53-1)+1) * 0x1p-53
			u2 := float64(x2&(1<<53-1)) * 0x1p-53
			z := float64(math.Sqrt(float64(-2*math.Log(u1))) * math.Cos(float64(2*math.Pi*u2)))
			out[i] = mean + float64(scale*z)
			s = add128(mul128(s, am), ac)
		}
	}
	return out
}

// noiseFill is a [3, 700] random fill named noise of type dt, lowered
// (its kernels added to srcs), and its CPU engine outputs ("y").
func noiseFill(t *testing.T, dt dsl.DataType, op dsl.FillOperation, alpha, beta float64, srcs map[string]string) (*dsl.FillLayer, map[string]*tensor.Tensor) {
	t.Helper()
	net := dsl.NewNetwork()
	f := net.AddFill(dsl.Dims{3, 700}, op, dt)
	f.SetName("noise")
	f.SetAlpha(alpha)
	f.SetBeta(beta)
	f.Output(0).SetName("y")
	net.MarkOutput(f.Output(0))
	lowerOnGPU(t, net, dsl.LayerFill, srcs)
	out, err := runCPU(t, net, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, out
}

// TestFillRandomNormalDraws: the kernel's draws and thread layout give
// the CPU engine's RandomNormal values bit for bit where the GPU's log
// and cos round as Go's do (the GPU's may differ in a last bit of the
// double; the GPU tests compare within tolerance).
func TestFillRandomNormalDraws(t *testing.T) {
	srcs := map[string]string{}
	defer compileAll(t, srcs)
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16} {
		_, out := noiseFill(t, dt, dsl.FillRandomNormal, 0.5, 2, srcs)
		for _, threads := range []int64{1, 256, 1000, 4096} {
			got, err := tensor.FromFloat64s(dt, []int64{3, 700}, normalMirror("noise", 2100, threads, 0.5, 2))
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Bytes()) != string(out["y"].Bytes()) {
				t.Fatalf("%v with %d threads: the jumped draws differ from the CPU engine's", dt, threads)
			}
		}
	}
}

// TestPCGJumpMatchesMathRand: the kernel's jump of k steps and output
// give math/rand/v2's k-th Uint64 for the CPU engine's seeds.
func TestPCGJumpMatchesMathRand(t *testing.T) {
	for _, seed := range []uint64{0, 1, 0xcbf29ce484222325, math.MaxUint64} {
		rng := rand.NewPCG(dsl.FillSeed, seed)
		for k := uint64(1); k <= 3000; k++ {
			want := rng.Uint64()
			am, ac := pcgJump(k)
			if got := pcgOut(add128(mul128(u128{dsl.FillSeed, seed}, am), ac)); got != want {
				t.Fatalf("seed %#x: draw %d is %#x, math/rand/v2 gives %#x", seed, k, got, want)
			}
		}
	}
}

// TestFillRandomUniformBitExact: the kernel's algorithm, with its thread
// layout, gives the CPU engine's RandomUniform values bit for bit in
// float32 and float16, static alpha and beta or inputs.
func TestFillRandomUniformBitExact(t *testing.T) {
	srcs := map[string]string{}
	defer compileAll(t, srcs)
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16} {
		f, out := noiseFill(t, dt, dsl.FillRandomUniform, -1.5, 2.25, srcs)
		want := out["y"]
		m, g, err := fillPlan(f, shapeValues{dims: map[*dsl.Tensor][]int64{f.Output(0): {3, 700}}})
		if err != nil {
			t.Fatal(err)
		}
		if g.n != 2100 || math.Float64frombits(uint64(m[1])) != -1.5 || math.Float64frombits(uint64(m[2])) != 2.25 {
			t.Fatalf("meta %v launch %+v", m, g)
		}
		h := fnv.New64a()
		h.Write([]byte("noise"))
		if uint64(m[0]) != h.Sum64() {
			t.Fatalf("meta seed %#x, want the name's FNV-1a %#x", m[0], h.Sum64())
		}
		for _, threads := range []int64{1, 256, 1000, 4096} {
			vals := uniformMirror("noise", 2100, threads, -1.5, 2.25)
			got, err := tensor.FromFloat64s(dt, []int64{3, 700}, vals)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Bytes()) != string(want.Bytes()) {
				t.Fatalf("%v with %d threads: the jumped draws differ from the CPU engine's", dt, threads)
			}
		}
	}
}

// TestFillKernels: Linspace (static, float or int64 parameters; inputs of
// every type, to float32, int32 and int64), RandomUniform and
// RandomNormal lower to kernels that compile.
func TestFillKernels(t *testing.T) {
	srcs := map[string]string{}
	defer compileAll(t, srcs)
	for _, out := range []dsl.DataType{dsl.Float32, dsl.Int32, dsl.Int64} {
		for _, intParams := range []bool{false, true} {
			net := dsl.NewNetwork()
			f := net.AddFill(dsl.Dims{7}, dsl.FillLinspace, out)
			if intParams {
				f.SetAlphaInt64(3)
				f.SetBetaInt64(-2)
			} else {
				f.SetAlpha(0.5)
				f.SetBeta(0.25)
			}
			net.MarkOutput(f.Output(0))
			lowerOnGPU(t, net, dsl.LayerFill, srcs)
		}
		for _, at := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.Int32, dsl.Int64} {
			net := dsl.NewNetwork()
			a := net.AddInput("a", at, dsl.Dims{})
			b := net.AddInput("b", at, dsl.Dims{3})
			f := net.AddFill(nil, dsl.FillLinspace, out)
			f.SetInput(0, net.AddConstant(dsl.Dims{3}, dsl.Int64Weights(2, 3, 4)).Output(0))
			f.SetInput(1, a)
			f.SetInput(2, b)
			net.MarkOutput(f.Output(0))
			lowerOnGPU(t, net, dsl.LayerFill, srcs)
			if out != dsl.Float32 {
				continue
			}
			net = dsl.NewNetwork()
			a = net.AddInput("a", at, dsl.Dims{})
			b = net.AddInput("b", at, dsl.Dims{})
			u := net.AddFill(dsl.Dims{4, 5}, dsl.FillRandomUniform, dsl.Float16)
			u.SetInput(1, a)
			u.SetInput(2, b)
			net.MarkOutput(u.Output(0))
			lowerOnGPU(t, net, dsl.LayerFill, srcs)
		}
	}
	for _, inputs := range []bool{false, true} {
		net := dsl.NewNetwork()
		f := net.AddFill(dsl.Dims{4}, dsl.FillRandomNormal, dsl.Float16)
		if inputs {
			f.SetInput(1, net.AddInput("mean", dsl.Float32, dsl.Dims{}))
			f.SetInput(2, net.AddInput("scale", dsl.Float32, dsl.Dims{}))
		}
		net.MarkOutput(f.Output(0))
		lowerOnGPU(t, net, dsl.LayerFill, srcs)
	}
}

// TestFillLinspaceMeta: the metadata holds the dims and the static
// parameters as the kernel reads them; a delta of the wrong length is a
// plan error.
func TestFillLinspaceMeta(t *testing.T) {
	net := dsl.NewNetwork()
	f := net.AddFill(dsl.Dims{5}, dsl.FillLinspace, dsl.Int64)
	f.SetAlphaInt64(1 << 60)
	f.SetBetaInt64(7)
	m, g, err := fillPlan(f, shapeValues{dims: map[*dsl.Tensor][]int64{f.Output(0): {5}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 5, 1 << 60, 7}; !slices.Equal(m, want) || g.n != 5 {
		t.Errorf("int64 Linspace meta %v launch %+v, want %v", m, g, want)
	}
	f.SetAlpha(0.5)
	m, _, _ = fillPlan(f, shapeValues{dims: map[*dsl.Tensor][]int64{f.Output(0): {5}}})
	if math.Float64frombits(uint64(m[2])) != 0.5 || math.Float64frombits(uint64(m[3])) != 7 {
		t.Errorf("float Linspace meta %v", m)
	}

	net = dsl.NewNetwork()
	a := net.AddInput("a", dsl.Float32, dsl.Dims{})
	b := net.AddInput("b", dsl.Float32, dsl.Dims{-1})
	f = net.AddFill(nil, dsl.FillLinspace, dsl.Float32)
	f.SetInput(0, net.AddConstant(dsl.Dims{2}, dsl.Int64Weights(2, 3)).Output(0))
	f.SetInput(1, a)
	f.SetInput(2, b)
	dims := map[*dsl.Tensor][]int64{f.Output(0): {2, 3}, a: {}, b: {3}, f.Input(0): {2}}
	if _, _, err := fillPlan(f, shapeValues{dims: dims}); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "has 3 values at run time but the output has rank 2") {
		t.Errorf("a delta of 3 values for rank 2: %v", err)
	}
	dims[b] = []int64{2}
	if m, _, err := fillPlan(f, shapeValues{dims: dims}); err != nil || !slices.Equal(m[:3], []int64{2, 2, 3}) {
		t.Errorf("meta %v, %v", m, err)
	}
}
