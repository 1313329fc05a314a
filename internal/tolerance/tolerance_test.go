package tolerance

import (
	"math"
	"strings"
	"testing"

	"github.com/trtc/trtc/tensor"
)

func TestCloseAndCompare(t *testing.T) {
	f32 := For(tensor.Float32)
	cases := []struct {
		got, want float64
		close     bool
	}{
		{1, 1, true},
		{1 + 5e-6, 1, true},  // within abs 1e-5 + rel 1e-5
		{1 + 5e-5, 1, false}, // beyond
		{math.NaN(), math.NaN(), true},
		{math.NaN(), 1, false},
		{math.Inf(1), math.Inf(1), true},
		{math.Inf(1), 1e30, false},
		{1e6 + 5, 1e6, true}, // relative part: 1e-5*1e6 = 10
	}
	for _, c := range cases {
		if got := f32.Close(c.got, c.want); got != c.close {
			t.Errorf("Close(%g, %g) = %v, want %v", c.got, c.want, got, c.close)
		}
	}
	if err := f32.Compare([]float64{1, 2, 3}, []float64{1, 2.5, 3}); err == nil || !strings.Contains(err.Error(), "[1] got 2 want 2.5") {
		t.Errorf("Compare did not name the mismatch: %v", err)
	}
	if err := f32.Compare([]float64{1}, []float64{1, 2}); err == nil {
		t.Error("Compare accepted different lengths")
	}
	if For(tensor.Int32) != (Tol{}) {
		t.Error("integers must compare exactly")
	}
	if s := f32.Scaled(100); s.Abs != 10*f32.Abs || s.Rel != 10*f32.Rel {
		t.Errorf("Scaled(100) = %+v, want 10x", s)
	}
	if For(tensor.Float16).Abs <= f32.Abs || For(tensor.BFloat16).Abs <= For(tensor.Float16).Abs {
		t.Error("narrower types must get looser tolerances")
	}
}
