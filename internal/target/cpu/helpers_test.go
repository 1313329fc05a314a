package cpu

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// Test helpers shared by every kernel test in this package. Expected values
// in tests come from naive loops or hand calculation in the test itself,
// never from the code under test.

// newRNG returns a deterministic source so failures reproduce.
func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// randFloats returns n values uniform in [lo, hi), never exactly zero.
func randFloats(rng *rand.Rand, n int64, lo, hi float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		v := 0.0
		for v == 0 {
			v = lo + (hi-lo)*rng.Float64()
		}
		out[i] = v
	}
	return out
}

// randTensor returns a tensor of type dt with values uniform in [-1, 1)
// (rounded to dt), and the values as stored, widened to float64.
func randTensor(t testing.TB, rng *rand.Rand, dt tensor.DataType, shape ...int64) (*tensor.Tensor, []float64) {
	t.Helper()
	vals := randFloats(rng, tensor.Volume(shape), -1, 1)
	if dt.IsInteger() {
		for i := range vals {
			vals[i] = float64(rng.IntN(19) - 9)
		}
	}
	x, err := tensor.FromFloat64s(dt, shape, vals)
	if err != nil {
		t.Fatal(err)
	}
	return x, x.Float64s()
}

// mustTensor builds a tensor from float64 values or fails the test.
func mustTensor(t testing.TB, dt tensor.DataType, shape []int64, vals []float64) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromFloat64s(dt, shape, vals)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// runNet builds an engine for net and runs it, failing the test on error.
func runNet(t testing.TB, net *dsl.Network, inputs map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	t.Helper()
	e, err := New(net)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	out, err := e.Run(context.Background(), inputs)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out
}

// runErr builds and runs net and returns the error (nil if it worked).
func runErr(net *dsl.Network, inputs map[string]*tensor.Tensor) error {
	e, err := New(net)
	if err != nil {
		return err
	}
	_, err = e.Run(context.Background(), inputs)
	return err
}

// checkClose compares a result with expected values at the tolerance of
// its type (scaled for accumulations of k terms).
func checkClose(t testing.TB, got *tensor.Tensor, wantShape []int64, want []float64, k int) {
	t.Helper()
	if !sameShape(got.Shape(), wantShape) {
		t.Fatalf("shape %v, want %v", got.Shape(), wantShape)
	}
	if err := tolerance.For(got.DType()).Scaled(k).Compare(got.Float64s(), want); err != nil {
		t.Fatal(err)
	}
}

// roundTo rounds float64 values to what type dt stores, for expected values
// of fp16/bf16 layers.
func roundTo(dt tensor.DataType, vals []float64) []float64 {
	x, _ := tensor.FromFloat64s(dt, []int64{int64(len(vals))}, vals)
	return x.Float64s()
}
