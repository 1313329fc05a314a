package cpu

import "golang.org/x/sys/cpu"

// gemmHasAVX2FMA reports whether the assembly micro-kernels can run: they
// need AVX2 and FMA3 (and the OS saving the YMM registers, which HasAVX2
// checks).
var gemmHasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// gemmKernelAVX2 and gemmKernelAVX2N8 are gemmKernelGo in AVX2+FMA assembly
// (gemm_amd64.s) for 16 and 8 columns: a, b and c point at A(0,0), the
// packed B panel and the tile's top-left element.
//
//go:noescape
func gemmKernelAVX2(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha float32, overwrite bool)

//go:noescape
func gemmKernelAVX2N8(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha float32, overwrite bool)

// gemmMicro computes one gemmMR×gemmNR tile, or its left 8 columns when
// narrow is set (see gemmKernelGo).
func gemmMicro(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha float32, overwrite, narrow bool) {
	if !gemmHasAVX2FMA || gemmForceGeneric {
		gemmKernelGo(kc, a, rsa, csa, b, c, ldc, alpha, overwrite, narrow)
		return
	}
	// Bounds the assembly relies on, checked here once per tile.
	_ = a[(gemmMR-1)*rsa+(kc-1)*csa]
	_ = b[kc*gemmNR-1]
	if narrow {
		_ = c[(gemmMR-1)*ldc+gemmNR/2-1]
		gemmKernelAVX2N8(kc, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, overwrite)
		return
	}
	_ = c[(gemmMR-1)*ldc+gemmNR-1]
	gemmKernelAVX2(kc, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, overwrite)
}
