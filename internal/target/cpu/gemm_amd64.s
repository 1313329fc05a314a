#include "textflag.h"

// GEMM micro-kernel, AVX2 + FMA3. Computes the 6×16 float32 tile
// C = alpha * A·B (overwrite) or C += alpha * A·B from packed panels:
// A holds 6 values per k step, B holds 16. The tile lives in Y0..Y11 (row r
// in Y(2r), Y(2r+1)); Y12, Y13 hold one row of B, Y14 and Y15 the broadcast
// A values (two, so consecutive FMAs pairs do not wait on one register).

// GEMMSTEP does one k step reading A at aoff(SI) and B at boff(DI).
#define GEMMSTEP(aoff, boff) \
	VMOVUPS      boff(DI), Y12;    \
	VMOVUPS      boff+32(DI), Y13; \
	VBROADCASTSS aoff(SI), Y14;    \
	VFMADD231PS  Y12, Y14, Y0;     \
	VFMADD231PS  Y13, Y14, Y1;     \
	VBROADCASTSS aoff+4(SI), Y15;  \
	VFMADD231PS  Y12, Y15, Y2;     \
	VFMADD231PS  Y13, Y15, Y3;     \
	VBROADCASTSS aoff+8(SI), Y14;  \
	VFMADD231PS  Y12, Y14, Y4;     \
	VFMADD231PS  Y13, Y14, Y5;     \
	VBROADCASTSS aoff+12(SI), Y15; \
	VFMADD231PS  Y12, Y15, Y6;     \
	VFMADD231PS  Y13, Y15, Y7;     \
	VBROADCASTSS aoff+16(SI), Y14; \
	VFMADD231PS  Y12, Y14, Y8;     \
	VFMADD231PS  Y13, Y14, Y9;     \
	VBROADCASTSS aoff+20(SI), Y15; \
	VFMADD231PS  Y12, Y15, Y10;    \
	VFMADD231PS  Y13, Y15, Y11

// GEMMADDROW adds row r of the tile to the C row at DX and stores it.
#define GEMMADDROW(lo, hi) \
	VADDPS  (DX), lo, lo;   \
	VADDPS  32(DX), hi, hi; \
	VMOVUPS lo, (DX);       \
	VMOVUPS hi, 32(DX);     \
	ADDQ    R8, DX

// GEMMSETROW stores row r of the tile into the C row at DX.
#define GEMMSETROW(lo, hi) \
	VMOVUPS lo, (DX);   \
	VMOVUPS hi, 32(DX); \
	ADDQ    R8, DX

// func gemmKernelAVX2(kc int, a, b, c *float32, ldc int, alpha float32, overwrite bool)
TEXT ·gemmKernelAVX2(SB), NOSPLIT, $0-45
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	// Four k steps per iteration, then the remaining kc%4 one at a time.
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	GEMMSTEP(0, 0)
	GEMMSTEP(24, 64)
	GEMMSTEP(48, 128)
	GEMMSTEP(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   scale

loop1:
	GEMMSTEP(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loop1

scale:
	VBROADCASTSS alpha+40(FP), Y14
	VMULPS       Y14, Y0, Y0
	VMULPS       Y14, Y1, Y1
	VMULPS       Y14, Y2, Y2
	VMULPS       Y14, Y3, Y3
	VMULPS       Y14, Y4, Y4
	VMULPS       Y14, Y5, Y5
	VMULPS       Y14, Y6, Y6
	VMULPS       Y14, Y7, Y7
	VMULPS       Y14, Y8, Y8
	VMULPS       Y14, Y9, Y9
	VMULPS       Y14, Y10, Y10
	VMULPS       Y14, Y11, Y11

	MOVBLZX overwrite+44(FP), AX
	TESTL   AX, AX
	JNZ     store

	GEMMADDROW(Y0, Y1)
	GEMMADDROW(Y2, Y3)
	GEMMADDROW(Y4, Y5)
	GEMMADDROW(Y6, Y7)
	GEMMADDROW(Y8, Y9)
	GEMMADDROW(Y10, Y11)
	VZEROUPPER
	RET

store:
	GEMMSETROW(Y0, Y1)
	GEMMSETROW(Y2, Y3)
	GEMMSETROW(Y4, Y5)
	GEMMSETROW(Y6, Y7)
	GEMMSETROW(Y8, Y9)
	GEMMSETROW(Y10, Y11)
	VZEROUPPER
	RET
