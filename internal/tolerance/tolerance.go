// Package tolerance is the one place that says how close a target's result
// must be to the CPU reference engine, per precision. Every differential
// test (CPU kernels against naive loops, GPU targets against the CPU engine)
// uses these numbers.
package tolerance

import (
	"fmt"
	"math"

	"github.com/trtc/trtc/tensor"
)

// Tol is an absolute and a relative bound: |got-want| <= Abs + Rel*|want|.
type Tol struct{ Abs, Rel float64 }

// For returns the tolerance for results stored in dt. The float bounds are a
// few units in the last place of the type (float32: 2^-23 ≈ 1.2e-7, but
// accumulation order differs between kernels, so 1e-5; float16: 2^-10 ≈ 1e-3;
// bfloat16: 2^-7 ≈ 7.8e-3; fp8 e4m3: 2^-3 = 0.125). Integers are exact.
func For(dt tensor.DataType) Tol {
	switch dt {
	case tensor.Float32:
		return Tol{Abs: 1e-5, Rel: 1e-5}
	case tensor.Float16:
		return Tol{Abs: 1e-3, Rel: 2e-3}
	case tensor.BFloat16:
		return Tol{Abs: 1e-2, Rel: 1.6e-2}
	case tensor.FP8E4M3:
		return Tol{Abs: 0.0625, Rel: 0.125}
	}
	return Tol{}
}

// Scaled returns the tolerance for a result accumulated over k terms (a dot
// product of length k): rounding error grows with sqrt(k) for random data.
func (t Tol) Scaled(k int) Tol {
	s := math.Sqrt(float64(max(k, 1)))
	return Tol{Abs: t.Abs * s, Rel: t.Rel * s}
}

// Close reports whether got is within t of want. NaN matches NaN and
// infinities must match exactly.
func (t Tol) Close(got, want float64) bool {
	switch {
	case math.IsNaN(want) || math.IsNaN(got):
		return math.IsNaN(want) && math.IsNaN(got)
	case math.IsInf(want, 0) || math.IsInf(got, 0):
		return got == want
	}
	return math.Abs(got-want) <= t.Abs+t.Rel*math.Abs(want)
}

// Compare checks every element of got against want and describes the first
// few mismatches; it returns nil when all are close.
func (t Tol) Compare(got []float64, want []float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d values, want %d", len(got), len(want))
	}
	var bad []string
	nbad := 0
	for i := range got {
		if !t.Close(got[i], want[i]) {
			nbad++
			if len(bad) < 5 {
				bad = append(bad, fmt.Sprintf("[%d] got %g want %g", i, got[i], want[i]))
			}
		}
	}
	if nbad == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d values differ beyond abs %g rel %g: %v", nbad, len(got), t.Abs, t.Rel, bad)
}
