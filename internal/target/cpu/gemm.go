package cpu

// sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float32
// matrices, where op transposes when the flag is set. A is m×k after op, B
// is k×n after op, C is m×n; lda, ldb and ldc are row strides.
//
// It is the one GEMM that convolution, matrix multiply and attention share:
// a packed, cache-blocked product (gemm_block.go) whose inner tile runs in an
// AVX2+FMA assembly micro-kernel where the CPU has one (gemm_amd64.s) and in
// Go elsewhere (gemm_kernel.go). Large products are split over all cores.
//
// As in BLAS, beta == 0 overwrites C without reading it (NaN or Inf already
// there does not leak into the result), and alpha == 0 or k == 0 only scales
// C by beta without reading A or B.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 || alpha == 0 {
		gemmScaleC(c, ldc, 0, m, 0, n, beta)
		return
	}
	g := &gemmArgs{transA: transA, transB: transB, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, k: k}
	g.parallel(m, n)
}

// gemmScaleC sets rows [i0,i1) × columns [j0,j1) of C to beta times
// themselves; beta == 0 stores zeros so that garbage in C is overwritten.
func gemmScaleC(c []float32, ldc, i0, i1, j0, j1 int, beta float32) {
	if beta == 1 {
		return
	}
	for i := i0; i < i1; i++ {
		row := c[i*ldc+j0 : i*ldc+j1]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
