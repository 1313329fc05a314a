package cuda

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/x448/float16"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

func ltErr(op string, r C.cublasStatus_t) error {
	if r == 0 {
		return nil
	}
	st := &Status{Library: "cuBLASLt", Code: int(r), Name: C.GoString(C.t_cublasLtGetStatusName(r)), Message: C.GoString(C.t_cublasLtGetStatusString(r))}
	code := diag.Internal
	switch r {
	case 3: // CUBLAS_STATUS_ALLOC_FAILED
		code = diag.OutOfMemory
	case 7: // CUBLAS_STATUS_INVALID_VALUE
		code = diag.InvalidArgument
	case 15: // CUBLAS_STATUS_NOT_SUPPORTED
		code = diag.UnsupportedAttr
	case 1, 8: // NOT_INITIALIZED, ARCH_MISMATCH
		code = diag.NoDevice
	}
	return diag.Wrap(code, st, "%s failed", op)
}

// cudaDataType maps a tensor type to CUDA's cudaDataType_t.
func cudaDataType(dt tensor.DataType) (C.int, error) {
	switch dt {
	case tensor.Float32:
		return 0, nil
	case tensor.Float16:
		return 2, nil
	case tensor.BFloat16:
		return 14, nil
	case tensor.Int8:
		return 3, nil
	case tensor.UInt8:
		return 8, nil
	case tensor.Int32:
		return 10, nil
	case tensor.FP8E4M3:
		return 28, nil
	}
	return 0, diag.Errorf(diag.TypeMismatch, "cuda: no CUDA data type for %v", dt)
}

// BlasLtVersion loads cuBLASLt and returns its version, e.g. 130000 for
// 13.0.0 (major*10000 + minor*100 + patch).
func BlasLtVersion() (int, error) {
	if err := libCublasLt.load(); err != nil {
		return 0, err
	}
	return int(C.t_cublasLtGetVersion()), nil
}

// ComputeType is cublasComputeType_t.
type ComputeType int

const (
	Compute16F         ComputeType = 64 // fp16 accumulation
	Compute32F         ComputeType = 68 // fp32 accumulation, no down-conversion
	Compute32FFast16F  ComputeType = 74 // fp32 accumulation, inputs may become fp16
	Compute32FFast16BF ComputeType = 75 // fp32 accumulation, inputs may become bf16
	Compute32FFastTF32 ComputeType = 77 // fp32 accumulation, inputs may become tf32
	Compute32I         ComputeType = 72 // int32 accumulation (int8 inputs)
)

// Epilogue is cublasLtEpilogue_t: what is applied to alpha*A*B + beta*C.
type Epilogue int

const (
	EpilogueDefault  Epilogue = 1
	EpilogueReLU     Epilogue = 2
	EpilogueBias     Epilogue = 4  // + bias[row], broadcast over columns
	EpilogueReLUBias Epilogue = 6  // relu(x + bias)
	EpilogueGELU     Epilogue = 32 // tanh-approximated GELU
	EpilogueGELUBias Epilogue = 36
)

// Order is a matrix's memory order.
type Order int

const (
	ColMajor Order = 0
	RowMajor Order = 1
)

// BlasLt is a cuBLASLt handle.
type BlasLt struct {
	ctx *Context
	h   C.cublasLtHandle_t
}

// NewBlasLt loads cuBLASLt and creates a handle.
func (c *Context) NewBlasLt() (*BlasLt, error) {
	if err := libCublasLt.load(); err != nil {
		return nil, err
	}
	lt := &BlasLt{ctx: c}
	if err := c.do(func() error { return ltErr("cublasLtCreate", C.t_cublasLtCreate(&lt.h)) }); err != nil {
		return nil, err
	}
	setLeakFinalizer(lt, func(l *BlasLt) bool { return l.h == nil }, func(*BlasLt) string { return "cuBLASLt handle" })
	return lt, nil
}

// Close destroys the handle.
func (lt *BlasLt) Close() error {
	if lt == nil || lt.h == nil {
		return nil
	}
	h := lt.h
	lt.h = nil
	return lt.ctx.do(func() error { return ltErr("cublasLtDestroy", C.t_cublasLtDestroy(h)) })
}

// MatmulDesc is a cublasLtMatmulDesc_t.
type MatmulDesc struct {
	lt    *BlasLt
	h     C.cublasLtMatmulDesc_t
	scale tensor.DataType
}

// NewMatmulDesc describes a matmul with the given accumulation and the type
// of alpha and beta (Float32 for every Compute32F*, Float16 for Compute16F,
// Int32 or Float32 for Compute32I).
func (lt *BlasLt) NewMatmulDesc(compute ComputeType, scale tensor.DataType) (*MatmulDesc, error) {
	st, err := cudaDataType(scale)
	if err != nil {
		return nil, err
	}
	d := &MatmulDesc{lt: lt, scale: scale}
	if err := ltErr("cublasLtMatmulDescCreate", C.t_cublasLtMatmulDescCreate(&d.h, C.int(compute), st)); err != nil {
		return nil, err
	}
	setLeakFinalizer(d, func(d *MatmulDesc) bool { return d.h == nil }, func(*MatmulDesc) string { return "cuBLASLt matmul descriptor" })
	return d, nil
}

func (d *MatmulDesc) set(attr int, p unsafe.Pointer, n uintptr) error {
	return ltErr(fmt.Sprintf("cublasLtMatmulDescSetAttribute(%d)", attr), C.t_cublasLtMatmulDescSetAttribute(d.h, C.int(attr), p, C.size_t(n)))
}

// SetTranspose sets whether A and B are transposed (CUBLAS_OP_T).
func (d *MatmulDesc) SetTranspose(a, b bool) error {
	op := func(t bool) int32 {
		if t {
			return 1
		}
		return 0
	}
	ta, tb := op(a), op(b)
	if err := d.set(3, unsafe.Pointer(&ta), 4); err != nil {
		return err
	}
	return d.set(4, unsafe.Pointer(&tb), 4)
}

// SetEpilogue sets the epilogue.
func (d *MatmulDesc) SetEpilogue(e Epilogue) error {
	v := uint32(e)
	return d.set(7, unsafe.Pointer(&v), 4)
}

// SetBias sets the bias vector (one value per row of D) used by the *Bias
// epilogues, and its type (usually D's type, or Float32).
func (d *MatmulDesc) SetBias(bias DevicePtr, dt tensor.DataType) error {
	p := uint64(bias)
	if err := d.set(8, unsafe.Pointer(&p), 8); err != nil {
		return err
	}
	t, err := cudaDataType(dt)
	if err != nil {
		return err
	}
	v := int32(t)
	return d.set(26, unsafe.Pointer(&v), 4)
}

// Close destroys the descriptor.
func (d *MatmulDesc) Close() error {
	if d == nil || d.h == nil {
		return nil
	}
	h := d.h
	d.h = nil
	return ltErr("cublasLtMatmulDescDestroy", C.t_cublasLtMatmulDescDestroy(h))
}

// MatrixLayout is a cublasLtMatrixLayout_t.
type MatrixLayout struct{ h C.cublasLtMatrixLayout_t }

// NewLayout describes a rows x cols matrix of dt with leading dimension ld
// (column-major unless SetOrder says otherwise).
func (lt *BlasLt) NewLayout(dt tensor.DataType, rows, cols, ld int64) (*MatrixLayout, error) {
	t, err := cudaDataType(dt)
	if err != nil {
		return nil, err
	}
	l := &MatrixLayout{}
	if err := ltErr("cublasLtMatrixLayoutCreate", C.t_cublasLtMatrixLayoutCreate(&l.h, t, C.uint64_t(rows), C.uint64_t(cols), C.int64_t(ld))); err != nil {
		return nil, err
	}
	setLeakFinalizer(l, func(l *MatrixLayout) bool { return l.h == nil }, func(*MatrixLayout) string { return "cuBLASLt matrix layout" })
	return l, nil
}

func (l *MatrixLayout) set(attr int, p unsafe.Pointer, n uintptr) error {
	return ltErr(fmt.Sprintf("cublasLtMatrixLayoutSetAttribute(%d)", attr), C.t_cublasLtMatrixLayoutSetAttribute(l.h, C.int(attr), p, C.size_t(n)))
}

// SetOrder sets row- or column-major order.
func (l *MatrixLayout) SetOrder(o Order) error {
	v := int32(o)
	return l.set(1, unsafe.Pointer(&v), 4)
}

// SetBatch makes the layout a strided batch of count matrices, stride
// elements apart.
func (l *MatrixLayout) SetBatch(count int, stride int64) error {
	c := int32(count)
	if err := l.set(5, unsafe.Pointer(&c), 4); err != nil {
		return err
	}
	return l.set(6, unsafe.Pointer(&stride), 8)
}

// Close destroys the layout.
func (l *MatrixLayout) Close() error {
	if l == nil || l.h == nil {
		return nil
	}
	h := l.h
	l.h = nil
	return ltErr("cublasLtMatrixLayoutDestroy", C.t_cublasLtMatrixLayoutDestroy(h))
}

// Preference bounds the heuristic search.
type Preference struct{ h C.cublasLtMatmulPreference_t }

// NewPreference allows algorithms that need up to workspace bytes.
func (lt *BlasLt) NewPreference(workspace int) (*Preference, error) {
	p := &Preference{}
	if err := ltErr("cublasLtMatmulPreferenceCreate", C.t_cublasLtMatmulPreferenceCreate(&p.h)); err != nil {
		return nil, err
	}
	ws := uint64(workspace)
	if err := ltErr("cublasLtMatmulPreferenceSetAttribute", C.t_cublasLtMatmulPreferenceSetAttribute(p.h, 1, unsafe.Pointer(&ws), 8)); err != nil {
		C.t_cublasLtMatmulPreferenceDestroy(p.h)
		return nil, err
	}
	setLeakFinalizer(p, func(p *Preference) bool { return p.h == nil }, func(*Preference) string { return "cuBLASLt preference" })
	return p, nil
}

// Close destroys the preference.
func (p *Preference) Close() error {
	if p == nil || p.h == nil {
		return nil
	}
	h := p.h
	p.h = nil
	return ltErr("cublasLtMatmulPreferenceDestroy", C.t_cublasLtMatmulPreferenceDestroy(h))
}

// Algo is one algorithm the heuristic proposes: an opaque 64-byte value
// that can be kept (and saved: Bytes) and passed to Matmul.
type Algo struct {
	raw           C.trtcLtAlgo
	WorkspaceSize int     // bytes of workspace it needs
	Waves         float32 // device utilisation estimate
}

// Bytes is the opaque algorithm, for a timing cache or an engine file.
func (a *Algo) Bytes() []byte { return C.GoBytes(unsafe.Pointer(&a.raw), C.int(unsafe.Sizeof(a.raw))) }

// AlgoFromBytes restores an Algo saved with Bytes.
func AlgoFromBytes(b []byte, workspace int) (Algo, error) {
	var a Algo
	if len(b) != int(unsafe.Sizeof(a.raw)) {
		return a, diag.Errorf(diag.EngineCorrupt, "cuBLASLt algorithm of %d bytes, want %d", len(b), unsafe.Sizeof(a.raw))
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&a.raw)), len(b)), b)
	a.WorkspaceSize = workspace
	return a, nil
}

// Heuristic returns up to n algorithms for the problem, best first. It
// fails (diag.UnsupportedAttr) when there is none.
func (lt *BlasLt) Heuristic(d *MatmulDesc, a, b, c, dl *MatrixLayout, pref *Preference, n int) ([]Algo, error) {
	if n <= 0 {
		n = 1
	}
	res := make([]C.trtcLtHeuristic, n)
	var got C.int
	err := lt.ctx.do(func() error {
		return ltErr("cublasLtMatmulAlgoGetHeuristic", C.t_cublasLtMatmulAlgoGetHeuristic(lt.h, d.h, a.h, b.h, c.h, dl.h, pref.h, C.int(n), &res[0], &got))
	})
	if err != nil {
		return nil, err
	}
	var out []Algo
	for _, r := range res[:got] {
		if r.state == 0 {
			out = append(out, Algo{raw: r.algo, WorkspaceSize: int(r.workspaceSize), Waves: float32(r.wavesCount)})
		}
	}
	if len(out) == 0 {
		return nil, diag.Errorf(diag.UnsupportedAttr, "cuBLASLt has no algorithm for this matmul")
	}
	return out, nil
}

// scalar encodes alpha or beta in the descriptor's scale type.
func (d *MatmulDesc) scalar(v float64) (uint64, error) {
	switch d.scale {
	case tensor.Float32:
		return uint64(math.Float32bits(float32(v))), nil
	case tensor.Float16:
		return uint64(float16.Fromfloat32(float32(v)).Bits()), nil
	case tensor.Int32:
		return uint64(uint32(int32(v))), nil
	}
	return 0, diag.Errorf(diag.TypeMismatch, "cuda: unsupported cuBLASLt scale type %v", d.scale)
}

// Matmul computes D = epilogue(alpha*op(A)*op(B) + beta*C) on s, as
// cublasLtMatmul. algo may be nil (cuBLASLt then runs its own heuristic);
// workspace may be 0 when wsSize is 0. C and D may be the same memory.
func (lt *BlasLt) Matmul(s *Stream, d *MatmulDesc, alpha float64, A DevicePtr, la *MatrixLayout, B DevicePtr, lb *MatrixLayout,
	beta float64, Cm DevicePtr, lc *MatrixLayout, D DevicePtr, ld *MatrixLayout, algo *Algo, workspace DevicePtr, wsSize int) error {
	al, err := d.scalar(alpha)
	if err != nil {
		return err
	}
	be, err := d.scalar(beta)
	if err != nil {
		return err
	}
	var ap *C.trtcLtAlgo
	if algo != nil {
		ap = &algo.raw
	}
	return lt.ctx.do(func() error {
		return ltErr("cublasLtMatmul", C.t_cublasLtMatmul(lt.h, d.h, unsafe.Pointer(&al), C.CUdeviceptr(A), la.h, C.CUdeviceptr(B), lb.h,
			unsafe.Pointer(&be), C.CUdeviceptr(Cm), lc.h, C.CUdeviceptr(D), ld.h, ap, C.CUdeviceptr(workspace), C.size_t(wsSize), s.h))
	})
}
