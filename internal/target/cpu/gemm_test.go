package cpu

import (
	"testing"

	"github.com/trtc/trtc/internal/tolerance"
)

func TestSgemmAgainstNaiveLoop(t *testing.T) {
	rng := newRNG(3)
	for _, tc := range []struct {
		m, n, k        int
		transA, transB bool
	}{{1, 1, 1, false, false}, {7, 5, 3, false, false}, {7, 5, 3, true, false}, {7, 5, 3, false, true},
		{33, 17, 65, true, true}, {4, 3, 0, false, false}} {
		a := randFloats(rng, int64(tc.m*tc.k), -1, 1)
		b := randFloats(rng, int64(tc.k*tc.n), -1, 1)
		c0 := randFloats(rng, int64(tc.m*tc.n), -1, 1)
		at := func(i, p int) float64 { // element (i,p) of op(A)
			if tc.transA {
				return a[p*tc.m+i]
			}
			return a[i*tc.k+p]
		}
		bt := func(p, j int) float64 {
			if tc.transB {
				return b[j*tc.k+p]
			}
			return b[p*tc.n+j]
		}
		want := make([]float64, tc.m*tc.n)
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				s := 0.0
				for p := 0; p < tc.k; p++ {
					s += at(i, p) * bt(p, j)
				}
				want[i*tc.n+j] = 2*s + 0.5*c0[i*tc.n+j]
			}
		}
		f32 := func(v []float64) []float32 {
			o := make([]float32, len(v))
			for i, x := range v {
				o[i] = float32(x)
			}
			return o
		}
		lda, ldb := tc.k, tc.n
		if tc.transA {
			lda = tc.m
		}
		if tc.transB {
			ldb = tc.k
		}
		c := f32(c0)
		sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 2, f32(a), lda, f32(b), ldb, 0.5, c, tc.n)
		got := make([]float64, len(c))
		for i, v := range c {
			got[i] = float64(v)
		}
		if err := tolerance.For(0).Scaled(tc.k).Compare(got, want); err != nil {
			t.Errorf("%+v: %v", tc, err)
		}
	}
}
