#include "textflag.h"

// GEMM micro-kernel, AVX-512F: the same 6×16 tile and operands as
// gemmKernelAVX2 (gemm_amd64.s), one ZMM register per tile row. Six rows
// give only six independent FMA chains, too few to hide the FMA latency, so
// even k steps accumulate in Z0..Z5 and odd ones in Z6..Z11, summed at the
// end. The A values are broadcast by the FMAs themselves (embedded
// broadcast), so one k step is one B load and six FMAs.

// GEMMSTEP512 does one k step with B in zb, accumulating into the six
// registers given, then moves SI on by csa (R12).
#define GEMMSTEP512(zb, r0, r1, r2, r3, r4, r5) \
	VFMADD231PS.BCST (SI), zb, r0;        \
	VFMADD231PS.BCST (SI)(R9*1), zb, r1;  \
	VFMADD231PS.BCST (SI)(R9*2), zb, r2;  \
	VFMADD231PS.BCST (SI)(R10*1), zb, r3; \
	VFMADD231PS.BCST (SI)(R9*4), zb, r4;  \
	VFMADD231PS.BCST (SI)(R11*1), zb, r5; \
	ADDQ             R12, SI

// func gemmKernelAVX512(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha float32, overwrite bool)
TEXT ·gemmKernelAVX512(SB), NOSPLIT, $0-61
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R9
	MOVQ csa+24(FP), R12
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8
	SHLQ $2, R9
	SHLQ $2, R12
	LEAQ (R9)(R9*2), R10
	LEAQ (R9)(R9*4), R11

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11

	// Four k steps per iteration, then the remaining kc%4 one at a time.
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	VMOVUPS (DI), Z12
	VMOVUPS 64(DI), Z13
	VMOVUPS 128(DI), Z14
	VMOVUPS 192(DI), Z15
	GEMMSTEP512(Z12, Z0, Z1, Z2, Z3, Z4, Z5)
	GEMMSTEP512(Z13, Z6, Z7, Z8, Z9, Z10, Z11)
	GEMMSTEP512(Z14, Z0, Z1, Z2, Z3, Z4, Z5)
	GEMMSTEP512(Z15, Z6, Z7, Z8, Z9, Z10, Z11)
	ADDQ $256, DI
	DECQ BX
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   sum

loop1:
	VMOVUPS (DI), Z12
	GEMMSTEP512(Z12, Z0, Z1, Z2, Z3, Z4, Z5)
	ADDQ $64, DI
	DECQ CX
	JNZ  loop1

sum:
	VADDPS Z6, Z0, Z0
	VADDPS Z7, Z1, Z1
	VADDPS Z8, Z2, Z2
	VADDPS Z9, Z3, Z3
	VADDPS Z10, Z4, Z4
	VADDPS Z11, Z5, Z5

	VBROADCASTSS alpha+56(FP), Z14
	VMULPS       Z14, Z0, Z0
	VMULPS       Z14, Z1, Z1
	VMULPS       Z14, Z2, Z2
	VMULPS       Z14, Z3, Z3
	VMULPS       Z14, Z4, Z4
	VMULPS       Z14, Z5, Z5

	MOVBLZX overwrite+60(FP), AX
	TESTL   AX, AX
	JNZ     store

	VADDPS  (DX), Z0, Z0
	VMOVUPS Z0, (DX)
	ADDQ    R8, DX
	VADDPS  (DX), Z1, Z1
	VMOVUPS Z1, (DX)
	ADDQ    R8, DX
	VADDPS  (DX), Z2, Z2
	VMOVUPS Z2, (DX)
	ADDQ    R8, DX
	VADDPS  (DX), Z3, Z3
	VMOVUPS Z3, (DX)
	ADDQ    R8, DX
	VADDPS  (DX), Z4, Z4
	VMOVUPS Z4, (DX)
	ADDQ    R8, DX
	VADDPS  (DX), Z5, Z5
	VMOVUPS Z5, (DX)
	VZEROUPPER
	RET

store:
	VMOVUPS Z0, (DX)
	ADDQ    R8, DX
	VMOVUPS Z1, (DX)
	ADDQ    R8, DX
	VMOVUPS Z2, (DX)
	ADDQ    R8, DX
	VMOVUPS Z3, (DX)
	ADDQ    R8, DX
	VMOVUPS Z4, (DX)
	ADDQ    R8, DX
	VMOVUPS Z5, (DX)
	VZEROUPPER
	RET
