// Package irtest holds what the compiler's differential tests share: random
// inputs for any network, a comparison of two runs on the CPU engine, and
// the ONNX backend test models as a corpus of networks. Every pass is
// tested by running networks before and after it on the CPU engine.
package irtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/conformance"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// RandomInputs makes an input for every network input: dynamic dims become
// dyn, floats are uniform in [-1, 1) (never all zeros), integers small and
// non-negative (valid indices for small dims), bools random.
func RandomInputs(net *dsl.Network, seed uint64, dyn int64) map[string]*tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	in := map[string]*tensor.Tensor{}
	for _, t := range net.Inputs() {
		shape := []int64(t.Dims())
		for i, d := range shape {
			if d < 0 {
				shape[i] = dyn
			}
		}
		in[t.Name()] = RandomTensor(rng, t.Type(), shape)
	}
	return in
}

// RandomTensor fills a tensor of type dt and the given shape.
func RandomTensor(rng *rand.Rand, dt dsl.DataType, shape []int64) *tensor.Tensor {
	x := tensor.New(dt, shape...)
	n := x.Len()
	for i := int64(0); i < n; i++ {
		switch dt {
		case dsl.Float32, dsl.Float16, dsl.BFloat16, dsl.FP8E4M3:
			x.SetFloat64(i, rng.Float64()*2-1)
		case dsl.Bool:
			x.SetInt64(i, int64(rng.IntN(2)))
		case dsl.UInt8:
			x.SetInt64(i, int64(rng.IntN(200)))
		default:
			x.SetInt64(i, int64(rng.IntN(3)))
		}
	}
	return x
}

// Compare checks that got has the outputs of want: with scale 0 exactly
// (bit for bit; NaN matches NaN), otherwise each within the tolerance of
// its type scaled by scale (the length of the longest sum a rewrite
// reorders; 1 for a rewrite that only rounds differently).
func Compare(want, got map[string]*tensor.Tensor, scale int) error {
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		w := want[name]
		g, ok := got[name]
		if !ok {
			return fmt.Errorf("output %q is missing", name)
		}
		if w.DType() != g.DType() {
			return fmt.Errorf("output %q: type %v, want %v", name, g.DType(), w.DType())
		}
		if fmt.Sprint(w.Shape()) != fmt.Sprint(g.Shape()) {
			return fmt.Errorf("output %q: shape %v, want %v", name, g.Shape(), w.Shape())
		}
		if scale == 0 {
			if err := exact(g.Float64s(), w.Float64s()); err != nil {
				return fmt.Errorf("output %q: %v", name, err)
			}
			continue
		}
		tol := tolerance.For(w.DType()).Scaled(scale)
		if err := tol.Compare(g.Float64s(), w.Float64s()); err != nil {
			return fmt.Errorf("output %q: %v", name, err)
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("%d outputs, want %d", len(got), len(want))
	}
	return nil
}

// Differential runs before and after on the CPU engine with the same
// random inputs (two seeds, dynamic dims 2 and 3) and fails t when their
// outputs differ beyond the tolerance scaled by scale.
func Differential(t testing.TB, before, after *dsl.Network, scale int) {
	t.Helper()
	for i, dyn := range []int64{2, 3} {
		in := RandomInputs(before, uint64(i+1), dyn)
		want, err := cpu.Run(before, in)
		if err != nil {
			t.Skipf("the network does not run with dynamic dims %d: %v", dyn, err)
		}
		got, err := cpu.Run(after, in)
		if err != nil {
			t.Fatalf("after the rewrite the network fails to run: %v", err)
		}
		if err := Compare(want, got, scale); err != nil {
			t.Fatalf("dynamic dims %d: %v", dyn, err)
		}
	}
}

// CheckPass runs pass on net, verifies the result with ir.Check and
// compares it with net on the CPU engine on inputs in, within the
// tolerance scaled by scale (0: bit for bit); it reports whether the pass
// changed the network. name labels the failures.
func CheckPass(t testing.TB, name string, pass func(*ir.Graph, ir.Options) (*ir.Graph, error), o ir.Options, net *dsl.Network, in map[string]*tensor.Tensor, scale int) bool {
	t.Helper()
	g := ir.New(net)
	out, err := pass(g, o)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return false
	}
	if out == g {
		return false
	}
	if err := ir.Check(out); err != nil {
		t.Errorf("%s: %v", name, err)
		return true
	}
	want, err := cpu.Run(net, in)
	if err != nil {
		t.Errorf("%s: the original does not run: %v", name, err)
		return true
	}
	got, err := cpu.Run(out.Net, in)
	if err != nil {
		t.Errorf("%s: after the pass: %v", name, err)
		return true
	}
	if err := Compare(want, got, scale); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	return true
}

// Model is one ONNX backend test model with its stored inputs.
type Model struct {
	Name   string
	Net    *dsl.Network
	Inputs map[string]*tensor.Tensor
}

// ConformanceModels imports every ONNX backend test model that passes on
// the CPU engine, with its first stored data set, or skips t when the test
// data is not installed. The models are imported and checked once per test
// binary and shared: passes must not modify their input network, and a
// pass that did would make the tests after it fail.
func ConformanceModels(t testing.TB) []Model {
	t.Helper()
	cases := conformance.TestData(t)
	corpusOnce.Do(func() { corpus = loadModels(cases) })
	return corpus
}

var (
	corpusOnce sync.Once
	corpus     []Model
)

func loadModels(cases []conformance.Case) []Model {
	var out []Model
	for _, c := range cases {
		var m *Model
		capture := func(net *dsl.Network, in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
			if m == nil {
				m = &Model{Name: c.Group + "/" + c.Name, Net: net, Inputs: in}
			}
			return cpu.Run(net, in)
		}
		if r := conformance.Run(c, capture); r.Status == conformance.Passed && m != nil {
			out = append(out, *m)
		}
	}
	return out
}

func exact(got, want []float64) error {
	for i := range want {
		if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			return fmt.Errorf("[%d] got %g, want exactly %g", i, got[i], want[i])
		}
	}
	return nil
}
