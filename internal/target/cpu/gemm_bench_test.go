package cpu

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// BenchmarkSgemm times the convolution GEMMs of ResNet-18 (M output
// channels, N output pixels, K = C*kh*kw) and an attention-sized product,
// with sgemm (trtc: the best micro-kernel of this CPU; trtc-avx2 and trtc-go
// capped to the AVX2 and Go kernels) and, for comparison, gonum's
// blas32.Gemm (the previous implementation), and reports GFLOP/s.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range []struct{ m, n, k int }{
		{64, 12544, 147}, // conv1 7×7/2
		{64, 3136, 576},  // layer1 3×3
		{128, 784, 1152}, // layer2 3×3
		{256, 196, 2304}, // layer3 3×3
		{512, 49, 4608},  // layer4 3×3
		{128, 128, 64},   // attention scores, one head
	} {
		rng := newRNG(7)
		a := f32s(randFloats(rng, int64(s.m*s.k), -1, 1))
		bm := f32s(randFloats(rng, int64(s.k*s.n), -1, 1))
		c := make([]float32, s.m*s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		report := func(b *testing.B) {
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		name := fmt.Sprintf("M%d_N%d_K%d", s.m, s.n, s.k)
		for _, isa := range []struct {
			name string
			isa  gemmISA
		}{{"trtc", gemmISAAVX512}, {"trtc-avx2", gemmISAAVX2}, {"trtc-go", gemmISAGo}} {
			b.Run(name+"/"+isa.name, func(b *testing.B) {
				old := gemmMaxISA
				gemmMaxISA = isa.isa
				defer func() { gemmMaxISA = old }()
				for b.Loop() {
					sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bm, s.n, 0, c, s.n)
				}
				report(b)
			})
		}
		b.Run(name+"/gonum", func(b *testing.B) {
			for b.Loop() {
				blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
					blas32.General{Rows: s.m, Cols: s.k, Stride: s.k, Data: a},
					blas32.General{Rows: s.k, Cols: s.n, Stride: s.n, Data: bm},
					0, blas32.General{Rows: s.m, Cols: s.n, Stride: s.n, Data: c})
			}
			report(b)
		})
	}
}

func f32s(v []float64) []float32 {
	o := make([]float32, len(v))
	for i, x := range v {
		o[i] = float32(x)
	}
	return o
}
