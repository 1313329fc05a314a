//go:build tensorrt

package tensorrt

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/internal/target"
	"github.com/trtc/trtc/tensor"
)

// CUDA is what the runtime needs from internal/cuda: device memory and
// streams as opaque handles (a CUstream is a cudaStream_t; TensorRT takes
// either). This package does not import internal/cuda; whoever links both
// calls UseCUDA at init (a tagged file next to the CLI, or internal/cuda
// itself behind the tensorrt tag).
type CUDA interface {
	Malloc(bytes int64) (uintptr, error)
	Free(ptr uintptr) error
	MemcpyHtoDAsync(dst uintptr, src []byte, stream uintptr) error
	MemcpyDtoHAsync(dst []byte, src uintptr, stream uintptr) error
	StreamCreate() (uintptr, error)
	StreamSynchronize(stream uintptr) error
	StreamDestroy(stream uintptr) error
}

var cuda atomic.Pointer[CUDA]

// UseCUDA installs the device memory and stream provider.
func UseCUDA(c CUDA) { cuda.Store(&c) }

func getCUDA() (CUDA, error) {
	c := cuda.Load()
	if c == nil {
		return nil, diag.Errorf(diag.NoDevice, "the TensorRT runtime has no CUDA provider: this binary did not wire internal/cuda into the tensorrt target (tensorrt.UseCUDA)")
	}
	return *c, nil
}

type ioTensor struct {
	name  string
	input bool
	dtype tensor.DataType
}

// executable is a deserialized ICudaEngine.
type executable struct {
	name    string
	sessID  int64
	sess    *session
	runtime unsafe.Pointer
	engine  unsafe.Pointer
	io      []ioTensor
}

func (trtTarget) Load(s target.Sections) (target.Executable, error) {
	if _, _, err := loadLibrary(); err != nil {
		return nil, err
	}
	if hv := s.Metadata()[MetaHeaderVersion]; hv != "" {
		var v int
		fmt.Sscan(hv, &v)
		if v/10000 != int(C.trtc_library_version())/10000 {
			return nil, diag.Errorf(diag.EngineIncompatible, "%s: the plan was built with TensorRT %s; this machine has TensorRT %s: rebuild the engine here", s.Name(), versionString(v), versionString(int(C.trtc_library_version())))
		}
	}
	plan, err := s.Section(SectionPlan)
	if err != nil {
		return nil, err
	}
	id, sess := newSession(s.Name())
	rt := C.trtc_runtime_create(C.int64_t(id))
	if rt == nil {
		endSession(id)
		return nil, sess.err("createInferRuntime")
	}
	p := C.CBytes(plan)
	eng := C.trtc_engine_deserialize(rt, p, C.size_t(len(plan)))
	C.free(p)
	if eng == nil {
		err := sess.err("deserializeCudaEngine")
		C.trtc_runtime_destroy(rt)
		endSession(id)
		return nil, diag.Wrap(diag.EngineIncompatible, err, "%s", s.Name())
	}
	x := &executable{name: s.Name(), sessID: id, sess: sess, runtime: rt, engine: eng}
	for i := 0; i < int(C.trtc_engine_nb_io(eng)); i++ {
		cn := C.trtc_engine_io_name(eng, C.int(i))
		x.io = append(x.io, ioTensor{name: C.GoString(cn), input: C.trtc_engine_io_is_input(eng, cn) != 0, dtype: tensor.DataType(C.trtc_engine_io_type(eng, cn))})
	}
	return x, nil
}

func (x *executable) NewContext() (target.Context, error) {
	c := C.trtc_context_create(x.engine)
	if c == nil {
		return nil, x.sess.err("createExecutionContext")
	}
	return &context_{x: x, ctx: c}, nil
}

func (x *executable) Close() error {
	C.trtc_engine_destroy(x.engine)
	C.trtc_runtime_destroy(x.runtime)
	endSession(x.sessID)
	return nil
}

type context_ struct {
	x   *executable
	ctx unsafe.Pointer
}

// Execute copies the inputs to the device, sets their shapes (profile 0),
// enqueues on a fresh stream and copies the outputs back. Outputs whose
// shape depends on data (NonZero, NMS) need an IOutputAllocator, which is
// not written yet: they are an UnsupportedNode error.
func (c *context_) Execute(ctx context.Context, inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	cu, err := getCUDA()
	if err != nil {
		return nil, err
	}
	stream, err := cu.StreamCreate()
	if err != nil {
		return nil, err
	}
	defer cu.StreamDestroy(stream)
	if C.trtc_context_set_profile(c.ctx, 0, C.uintptr_t(stream)) != 0 {
		return nil, c.x.sess.err("setOptimizationProfileAsync")
	}
	var bufs []uintptr
	defer func() {
		for _, b := range bufs {
			cu.Free(b)
		}
	}()
	alloc := func(n int64) (uintptr, error) {
		if n == 0 {
			n = 1
		}
		p, err := cu.Malloc(n)
		if err == nil {
			bufs = append(bufs, p)
		}
		return p, err
	}
	cname := func(s string) *C.char { return C.CString(s) }
	for _, io := range c.x.io {
		if !io.input {
			continue
		}
		t, ok := inputs[io.name]
		if !ok {
			return nil, diag.Errorf(diag.InvalidArgument, "%s: input %q is missing", c.x.name, io.name)
		}
		n := cname(io.name)
		shape := t.Shape()
		rc := C.trtc_context_set_input_shape(c.ctx, n, i64(shape), C.int(len(shape)))
		if rc != 0 {
			C.free(unsafe.Pointer(n))
			return nil, diag.Wrap(diag.ShapeMismatch, c.x.sess.err("setInputShape"), "input %q %v", io.name, shape)
		}
		p, err := alloc(int64(len(t.Bytes())))
		if err == nil {
			err = cu.MemcpyHtoDAsync(p, t.Bytes(), stream)
		}
		if err == nil && C.trtc_context_set_address(c.ctx, n, C.uintptr_t(p)) != 0 {
			err = c.x.sess.err("setTensorAddress " + io.name)
		}
		C.free(unsafe.Pointer(n))
		if err != nil {
			return nil, err
		}
	}
	type pending struct {
		name  string
		ptr   uintptr
		shape []int64
		dtype tensor.DataType
	}
	var outs []pending
	for _, io := range c.x.io {
		if io.input {
			continue
		}
		n := cname(io.name)
		var d [8]C.int64_t
		rank := int(C.trtc_context_tensor_shape(c.ctx, n, &d[0]))
		shape := make([]int64, 0, 8)
		for i := 0; i < rank; i++ {
			shape = append(shape, int64(d[i]))
		}
		if rank < 0 || tensor.Volume(shape) < 0 || hasDynamic(shape) {
			C.free(unsafe.Pointer(n))
			return nil, diag.Errorf(diag.UnsupportedNode, "%s: output %q has a data-dependent shape, which needs an IOutputAllocator (not written yet)", c.x.name, io.name)
		}
		p, err := alloc(io.dtype.ByteSize(tensor.Volume(shape)))
		if err == nil && C.trtc_context_set_address(c.ctx, n, C.uintptr_t(p)) != 0 {
			err = c.x.sess.err("setTensorAddress " + io.name)
		}
		C.free(unsafe.Pointer(n))
		if err != nil {
			return nil, err
		}
		outs = append(outs, pending{io.name, p, shape, io.dtype})
	}
	if C.trtc_context_enqueue(c.ctx, C.uintptr_t(stream)) != 0 {
		return nil, c.x.sess.err("enqueueV3")
	}
	result := map[string]*tensor.Tensor{}
	host := map[string][]byte{}
	for _, o := range outs {
		b := make([]byte, o.dtype.ByteSize(tensor.Volume(o.shape)))
		if err := cu.MemcpyDtoHAsync(b, o.ptr, stream); err != nil {
			return nil, err
		}
		host[o.name] = b
	}
	if err := cu.StreamSynchronize(stream); err != nil {
		return nil, err
	}
	for _, o := range outs {
		t, err := tensor.FromBytes(o.dtype, o.shape, host[o.name])
		if err != nil {
			return nil, diag.Wrap(diag.Internal, err, "output %q", o.name)
		}
		result[o.name] = t
	}
	return result, ctx.Err()
}

func hasDynamic(s []int64) bool {
	for _, v := range s {
		if v < 0 {
			return true
		}
	}
	return false
}

func (c *context_) Close() error {
	C.trtc_context_destroy(c.ctx)
	return nil
}
