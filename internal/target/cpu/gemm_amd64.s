#include "textflag.h"

// GEMM micro-kernel, AVX2 + FMA3. Computes the 6×16 float32 tile
// C = alpha * A·B (overwrite) or C += alpha * A·B. B is a packed panel of
// 16 values per k step; A(r, p) is at a + r*rsa + p*csa, so the kernel reads
// a packed A panel (rsa 1, csa 6) or rows of a row-major A in place
// (rsa lda, csa 1). The tile lives in Y0..Y11 (row r
// in Y(2r), Y(2r+1)); Y12, Y13 hold one row of B, Y14 and Y15 the broadcast
// A values (two, so consecutive FMAs pairs do not wait on one register).

// GEMMSTEP does one k step: B at boff(DI), the six A values at SI + r*rsa
// (R9 = rsa, R10 = 3*rsa, R11 = 5*rsa bytes); then SI moves on by csa (R12).
#define GEMMSTEP(boff) \
	VMOVUPS      boff(DI), Y12;      \
	VMOVUPS      boff+32(DI), Y13;   \
	VBROADCASTSS (SI), Y14;          \
	VFMADD231PS  Y12, Y14, Y0;       \
	VFMADD231PS  Y13, Y14, Y1;       \
	VBROADCASTSS (SI)(R9*1), Y15;    \
	VFMADD231PS  Y12, Y15, Y2;       \
	VFMADD231PS  Y13, Y15, Y3;       \
	VBROADCASTSS (SI)(R9*2), Y14;    \
	VFMADD231PS  Y12, Y14, Y4;       \
	VFMADD231PS  Y13, Y14, Y5;       \
	VBROADCASTSS (SI)(R10*1), Y15;   \
	VFMADD231PS  Y12, Y15, Y6;       \
	VFMADD231PS  Y13, Y15, Y7;       \
	VBROADCASTSS (SI)(R9*4), Y14;    \
	VFMADD231PS  Y12, Y14, Y8;       \
	VFMADD231PS  Y13, Y14, Y9;       \
	VBROADCASTSS (SI)(R11*1), Y15;   \
	VFMADD231PS  Y12, Y15, Y10;      \
	VFMADD231PS  Y13, Y15, Y11;      \
	ADDQ         R12, SI

// GEMMSTEP8 is GEMMSTEP for the left 8 columns only (the tile's rows in
// Y0, Y2, ..., Y10).
#define GEMMSTEP8(boff) \
	VMOVUPS      boff(DI), Y12;      \
	VBROADCASTSS (SI), Y14;          \
	VFMADD231PS  Y12, Y14, Y0;       \
	VBROADCASTSS (SI)(R9*1), Y15;    \
	VFMADD231PS  Y12, Y15, Y2;       \
	VBROADCASTSS (SI)(R9*2), Y14;    \
	VFMADD231PS  Y12, Y14, Y4;       \
	VBROADCASTSS (SI)(R10*1), Y15;   \
	VFMADD231PS  Y12, Y15, Y6;       \
	VBROADCASTSS (SI)(R9*4), Y14;    \
	VFMADD231PS  Y12, Y14, Y8;       \
	VBROADCASTSS (SI)(R11*1), Y15;   \
	VFMADD231PS  Y12, Y15, Y10;      \
	ADDQ         R12, SI

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

// GEMMADDROW8 and GEMMSETROW8 are the 8-column forms.
#define GEMMADDROW8(lo) \
	VADDPS  (DX), lo, lo; \
	VMOVUPS lo, (DX);     \
	ADDQ    R8, DX

#define GEMMSETROW8(lo) \
	VMOVUPS lo, (DX); \
	ADDQ    R8, DX

// func gemmKernelAVX2(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha float32, overwrite bool)
TEXT ·gemmKernelAVX2(SB), NOSPLIT, $0-61
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
	GEMMSTEP(0)
	GEMMSTEP(64)
	GEMMSTEP(128)
	GEMMSTEP(192)
	ADDQ $256, DI
	DECQ BX
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   scale

loop1:
	GEMMSTEP(0)
	ADDQ $64, DI
	DECQ CX
	JNZ  loop1

scale:
	VBROADCASTSS alpha+56(FP), Y14
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

	MOVBLZX overwrite+60(FP), AX
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

// gemmKernelAVX2N8 is gemmKernelAVX2 for the left 8 columns of the tile,
// for tiles at the right edge of C that are at most 8 wide.
// func gemmKernelAVX2N8(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha float32, overwrite bool)
TEXT ·gemmKernelAVX2N8(SB), NOSPLIT, $0-61
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

	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6
	VXORPS Y8, Y8, Y8
	VXORPS Y10, Y10, Y10

	// Four k steps per iteration, then the remaining kc%4 one at a time.
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail8

loop48:
	GEMMSTEP8(0)
	GEMMSTEP8(64)
	GEMMSTEP8(128)
	GEMMSTEP8(192)
	ADDQ $256, DI
	DECQ BX
	JNZ  loop48

tail8:
	ANDQ $3, CX
	JZ   scale8

loop18:
	GEMMSTEP8(0)
	ADDQ $64, DI
	DECQ CX
	JNZ  loop18

scale8:
	VBROADCASTSS alpha+56(FP), Y14
	VMULPS       Y14, Y0, Y0
	VMULPS       Y14, Y2, Y2
	VMULPS       Y14, Y4, Y4
	VMULPS       Y14, Y6, Y6
	VMULPS       Y14, Y8, Y8
	VMULPS       Y14, Y10, Y10

	MOVBLZX overwrite+60(FP), AX
	TESTL   AX, AX
	JNZ     store8

	GEMMADDROW8(Y0)
	GEMMADDROW8(Y2)
	GEMMADDROW8(Y4)
	GEMMADDROW8(Y6)
	GEMMADDROW8(Y8)
	GEMMADDROW8(Y10)
	VZEROUPPER
	RET

store8:
	GEMMSETROW8(Y0)
	GEMMSETROW8(Y2)
	GEMMSETROW8(Y4)
	GEMMSETROW8(Y6)
	GEMMSETROW8(Y8)
	GEMMSETROW8(Y10)
	VZEROUPPER
	RET

// func gemmPackRowAVX2(dst, src *float32, panels, stride int)
// Copies panels runs of 16 floats from consecutive src to dst, dst + stride,
// dst + 2*stride, ... (stride in floats): one row of B into its packed panels.
TEXT ·gemmPackRowAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ panels+16(FP), CX
	MOVQ stride+24(FP), R8
	SHLQ $2, R8
	TESTQ CX, CX
	JZ   packdone

packloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    R8, DI
	DECQ    CX
	JNZ     packloop

packdone:
	VZEROUPPER
	RET
