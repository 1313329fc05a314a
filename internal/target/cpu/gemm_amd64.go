package cpu

import "golang.org/x/sys/cpu"

// gemmCPUISA is the best micro-kernel this CPU runs: AVX2 with FMA3, or
// AVX-512F (HasAVX2 and HasAVX512F include the OS saving the wider
// registers).
var gemmCPUISA = func() gemmISA {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return gemmISAAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return gemmISAAVX2
	}
	return gemmISAGo
}()

// gemmKernelAVX2 and gemmKernelAVX2N8 are gemmKernelGo in AVX2+FMA assembly
// (gemm_amd64.s) for 16 and 8 columns: a, b and c point at A(0,0), the
// packed B panel and the tile's top-left element.
//
//go:noescape
func gemmKernelAVX2(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha float32, overwrite bool)

//go:noescape
func gemmKernelAVX2N8(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha float32, overwrite bool)

// gemmKernelAVX512 is gemmKernelAVX2 with AVX-512F (gemm_avx512_amd64.s).
//
//go:noescape
func gemmKernelAVX512(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha float32, overwrite bool)

// gemmPackRowAVX2 copies one row of B into panels packed panels (see
// gemmPackRow), in assembly (gemm_amd64.s).
//
//go:noescape
func gemmPackRowAVX2(dst, src *float32, panels, stride int)

// gemmPackRow copies panels runs of gemmNR values from src into dst,
// dst[stride:], dst[2*stride:] ...: one row of B into its packed panels.
func gemmPackRow(dst, src []float32, panels, stride int) {
	if panels == 0 {
		return
	}
	if min(gemmCPUISA, gemmMaxISA) == gemmISAGo {
		gemmPackRowGo(dst, src, panels, stride)
		return
	}
	_ = src[panels*gemmNR-1]
	_ = dst[(panels-1)*stride+gemmNR-1]
	gemmPackRowAVX2(&dst[0], &src[0], panels, stride)
}

// gemmMicro computes one gemmMR×gemmNR tile, or its left 8 columns when
// narrow is set (see gemmKernelGo).
func gemmMicro(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha float32, overwrite, narrow bool) {
	isa := min(gemmCPUISA, gemmMaxISA)
	if isa == gemmISAGo {
		gemmKernelGo(kc, a, rsa, csa, b, c, ldc, alpha, overwrite, narrow)
		return
	}
	// Bounds the assembly relies on, checked here once per tile.
	_ = a[(gemmMR-1)*rsa+(kc-1)*csa]
	_ = b[kc*gemmNR-1]
	if narrow {
		_ = c[(gemmMR-1)*ldc+gemmNR/2-1]
		// Eight columns are one YMM register: AVX2 for both ISAs.
		gemmKernelAVX2N8(kc, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, overwrite)
		return
	}
	_ = c[(gemmMR-1)*ldc+gemmNR-1]
	if isa == gemmISAAVX512 {
		gemmKernelAVX512(kc, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, overwrite)
		return
	}
	gemmKernelAVX2(kc, &a[0], rsa, csa, &b[0], &c[0], ldc, alpha, overwrite)
}
