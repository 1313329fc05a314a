package cpu

// gemmISA names a micro-kernel by the instruction set it needs.
type gemmISA int

const (
	gemmISAGo     gemmISA = iota // gemmKernelGo, any CPU
	gemmISAAVX2                  // AVX2 + FMA3 assembly (amd64)
	gemmISAAVX512                // AVX-512F assembly (amd64)
)

// gemmMaxISA caps the micro-kernel gemmMicro picks (the best the CPU has, at
// most this); tests lower it to cover every kernel on one machine.
var gemmMaxISA = gemmISAAVX512

// gemmKernelGo is the portable micro-kernel: it computes the gemmMR×gemmNR
// tile alpha*Σp A(:,p)B(p,:) (only its left gemmNR/2 columns when narrow is
// set) and stores it into c (row stride ldc), or adds it to c unless
// overwrite is set. A(r, p) is a[r*rsa+p*csa] (a packed panel has rsa 1 and
// csa gemmMR; a row-major A read in place has rsa lda and csa 1); b is a
// packed kc×gemmNR panel. It walks the tile in 2×4 sub-tiles so that the
// eight accumulators and six operands fit in the registers of any target.
func gemmKernelGo(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha float32, overwrite, narrow bool) {
	b = b[:kc*gemmNR]
	cols := gemmNR
	if narrow {
		cols = gemmNR / 2
	}
	for i := 0; i < gemmMR; i += 2 {
		ar0, ar1 := a[i*rsa:], a[(i+1)*rsa:]
		for j := 0; j < cols; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			for p := 0; p < kc; p++ {
				bp := b[p*gemmNR+j : p*gemmNR+j+4]
				a0, a1 := ar0[p*csa], ar1[p*csa]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
			}
			r0 := c[i*ldc+j : i*ldc+j+4]
			r1 := c[(i+1)*ldc+j : (i+1)*ldc+j+4]
			if overwrite {
				r0[0], r0[1], r0[2], r0[3] = alpha*c00, alpha*c01, alpha*c02, alpha*c03
				r1[0], r1[1], r1[2], r1[3] = alpha*c10, alpha*c11, alpha*c12, alpha*c13
				continue
			}
			r0[0] += alpha * c00
			r0[1] += alpha * c01
			r0[2] += alpha * c02
			r0[3] += alpha * c03
			r1[0] += alpha * c10
			r1[1] += alpha * c11
			r1[2] += alpha * c12
			r1[3] += alpha * c13
		}
	}
}
