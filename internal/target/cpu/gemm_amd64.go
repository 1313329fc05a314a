package cpu

import "golang.org/x/sys/cpu"

// gemmHasAVX2FMA reports whether the assembly micro-kernel can run: it needs
// AVX2 and FMA3 (and the OS saving the YMM registers, which HasAVX2 checks).
var gemmHasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// gemmKernelAVX2 is gemmKernelGo in AVX2+FMA assembly (gemm_amd64.s): a, b
// and c point at the packed panels and the tile's top-left element; c must
// have gemmMR rows of gemmNR values at stride ldc.
//
//go:noescape
func gemmKernelAVX2(kc int, a, b, c *float32, ldc int, alpha float32, overwrite bool)

// gemmMicro computes one gemmMR×gemmNR tile (see gemmKernelGo).
func gemmMicro(kc int, a, b, c []float32, ldc int, alpha float32, overwrite bool) {
	if !gemmHasAVX2FMA || gemmForceGeneric {
		gemmKernelGo(kc, a, b, c, ldc, alpha, overwrite)
		return
	}
	// Bounds the assembly relies on, checked here once per tile.
	_ = a[kc*gemmMR-1]
	_ = b[kc*gemmNR-1]
	_ = c[(gemmMR-1)*ldc+gemmNR-1]
	gemmKernelAVX2(kc, &a[0], &b[0], &c[0], ldc, alpha, overwrite)
}
