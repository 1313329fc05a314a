package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// sgemmCase is one sgemm call: shapes, transposes, extra row-stride padding
// and the scalars.
type sgemmCase struct {
	m, n, k          int
	transA, transB   bool
	padA, padB, padC int
	alpha, beta      float32
}

func (tc sgemmCase) String() string {
	return fmt.Sprintf("m%d n%d k%d tA%v tB%v pad%d/%d/%d alpha%g beta%g",
		tc.m, tc.n, tc.k, tc.transA, tc.transB, tc.padA, tc.padB, tc.padC, tc.alpha, tc.beta)
}

// checkSgemm runs sgemm on random data and compares with a float64 triple
// loop over the same (float32) inputs. With beta == 0, C starts as NaN: BLAS
// semantics overwrite it, so any NaN in the result is a bug.
func checkSgemm(t *testing.T, rng *rand.Rand, tc sgemmCase) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := ac+tc.padA, bc+tc.padB, tc.n+tc.padC
	f32 := func(v []float64) []float32 {
		o := make([]float32, len(v))
		for i, x := range v {
			o[i] = float32(x)
		}
		return o
	}
	a := f32(randFloats(rng, int64(max(ar*lda, 1)), -1, 1))
	b := f32(randFloats(rng, int64(max(br*ldb, 1)), -1, 1))
	c := f32(randFloats(rng, int64(max(tc.m*ldc, 1)), -1, 1))
	if tc.beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	at := func(i, p int) float64 { // element (i,p) of op(A)
		if tc.transA {
			return float64(a[p*lda+i])
		}
		return float64(a[i*lda+p])
	}
	bt := func(p, j int) float64 {
		if tc.transB {
			return float64(b[j*ldb+p])
		}
		return float64(b[p*ldb+j])
	}
	want := make([]float64, len(c))
	for i := range c {
		want[i] = float64(c[i]) // padding columns must stay untouched
	}
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			s := 0.0
			for p := 0; p < tc.k; p++ {
				s += at(i, p) * bt(p, j)
			}
			w := float64(tc.alpha) * s
			if tc.beta != 0 {
				w += float64(tc.beta) * float64(c[i*ldc+j])
			}
			want[i*ldc+j] = w
		}
	}
	sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	got := make([]float64, len(c))
	for i, v := range c {
		got[i] = float64(v)
	}
	tol := tolerance.For(tensor.Float32).Scaled(tc.k * max(1, int(math.Ceil(math.Abs(float64(tc.alpha))))))
	if err := tol.Compare(got, want); err != nil {
		t.Errorf("%v: %v", tc, err)
	}
}

// sgemmCases lists fixed cases (k = 0, alpha = 0, several k, m and n blocks,
// NaN-filled C) and random ones over the sizes around the tile (6×16) and
// block (144×256×3072) edges, all four transpose combinations and padded
// strides.
func sgemmCases(rng *rand.Rand) []sgemmCase {
	cases := []sgemmCase{
		{m: 1, n: 1, k: 1, alpha: 2, beta: 0.5},
		{m: 7, n: 5, k: 3, alpha: 2, beta: 0.5},
		{m: 7, n: 5, k: 3, transA: true, alpha: 2, beta: 0.5},
		{m: 7, n: 5, k: 3, transB: true, alpha: 2, beta: 0.5},
		{m: 33, n: 17, k: 65, transA: true, transB: true, alpha: 2, beta: 0.5},
		{m: 4, n: 3, k: 0, alpha: 2, beta: 0.5},
		{m: 4, n: 3, k: 0, alpha: 1, beta: 0},
		{m: 5, n: 17, k: 9, alpha: 0, beta: 0},
		{m: 5, n: 17, k: 9, alpha: 0, beta: -1.5, padC: 2},
		{m: 7, n: 3100, k: 5, alpha: 1, beta: 0},                     // two n blocks
		{m: 70, n: 3100, k: 70, alpha: 1, beta: 1, padB: 1, padC: 2}, // split over n, two n blocks
		{m: 300, n: 40, k: 520, alpha: 1, beta: 1, padA: 1, padC: 3}, // m, k blocks
		{m: 64, n: 196, k: 576, alpha: 1, beta: 1},                   // ResNet layer3-like
		{m: 18, n: 49, k: 600, transB: true, alpha: -1, beta: 0},
	}
	dims := []int{1, 2, 3, 5, 17, 63, 64, 65, 257}
	scalars := [][2]float32{{1, 0}, {1, 1}, {2, 0.5}, {-0.75, 1}, {0.5, -2}, {1, 0}}
	for i := 0; i < 48; i++ {
		s := scalars[i%len(scalars)]
		cases = append(cases, sgemmCase{
			m: dims[rng.IntN(len(dims))], n: dims[rng.IntN(len(dims))], k: dims[rng.IntN(len(dims))],
			transA: i%2 == 1, transB: (i/2)%2 == 1,
			padA: rng.IntN(3), padB: rng.IntN(3), padC: rng.IntN(3),
			alpha: s[0], beta: s[1],
		})
	}
	// Every dimension of the list at least once in each of m, n and k.
	for i, d := range dims {
		cases = append(cases,
			sgemmCase{m: d, n: 17, k: 65, transA: i%2 == 0, padA: 1, alpha: 1, beta: 0},
			sgemmCase{m: 65, n: d, k: 17, transB: i%2 == 0, padB: 2, alpha: 1, beta: 1},
			sgemmCase{m: 17, n: 63, k: d, transA: true, transB: true, padC: 1, alpha: 2, beta: 0.5})
	}
	return cases
}

func TestSgemmAgainstNaiveLoop(t *testing.T) {
	// Each kernel level in turn; a CPU without one runs the next below it.
	for _, kernel := range []struct {
		name string
		isa  gemmISA
	}{{"avx512", gemmISAAVX512}, {"avx2", gemmISAAVX2}, {"go", gemmISAGo}} {
		t.Run(kernel.name, func(t *testing.T) {
			old := gemmMaxISA
			gemmMaxISA = kernel.isa
			defer func() { gemmMaxISA = old }()
			rng := newRNG(3)
			for _, tc := range sgemmCases(rng) {
				checkSgemm(t, rng, tc)
			}
		})
	}
}

// TestSgemmZeroAlphaSkipsAB checks the BLAS rule that alpha == 0 (or k == 0)
// only scales C: NaN in A and B must not reach it.
func TestSgemmZeroAlphaSkipsAB(t *testing.T) {
	nan := float32(math.NaN())
	a := []float32{nan, nan, nan, nan, nan, nan}
	b := []float32{nan, nan, nan, nan, nan, nan}
	c := []float32{1, 2, 3, 4}
	sgemm(false, false, 2, 2, 3, 0, a, 3, b, 2, 0.5, c, 2)
	want := []float64{0.5, 1, 1.5, 2}
	got := []float64{float64(c[0]), float64(c[1]), float64(c[2]), float64(c[3])}
	if err := tolerance.For(tensor.Float32).Compare(got, want); err != nil {
		t.Error(err)
	}
}
