package cuda

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/trtc/trtc/diag"
)

// Stream is a CUDA stream (non-blocking with respect to the legacy
// default stream).
type Stream struct {
	ctx *Context
	h   C.CUstream
}

// NewStream creates a stream.
func (c *Context) NewStream() (*Stream, error) {
	s := &Stream{ctx: c}
	err := c.do(func() error { return cuErr("cuStreamCreate", C.t_cuStreamCreate(&s.h, 1 /* CU_STREAM_NON_BLOCKING */)) })
	if err != nil {
		return nil, err
	}
	setLeakFinalizer(s, func(s *Stream) bool { return s.h == nil }, func(*Stream) string { return "stream" })
	return s, nil
}

// Context is the stream's context.
func (s *Stream) Context() *Context { return s.ctx }

// Handle is the CUstream (== cudaStream_t) for other libraries, TensorRT's
// enqueueV3 for one.
func (s *Stream) Handle() uintptr { return uintptr(unsafe.Pointer(s.h)) }

// Synchronize waits for the stream's work.
func (s *Stream) Synchronize() error {
	return s.ctx.do(func() error { return cuErr("cuStreamSynchronize", C.t_cuStreamSynchronize(s.h)) })
}

// Close destroys the stream.
func (s *Stream) Close() error {
	if s == nil || s.h == nil {
		return nil
	}
	h := s.h
	s.h = nil
	return s.ctx.do(func() error { return cuErr("cuStreamDestroy", C.t_cuStreamDestroy(h)) })
}

// MemsetD8 sets n bytes at dst to v, asynchronously.
func (s *Stream) MemsetD8(dst DevicePtr, v byte, n int) error {
	return s.ctx.do(func() error {
		return cuErr("cuMemsetD8Async", C.t_cuMemsetD8Async(C.CUdeviceptr(dst), C.uchar(v), C.size_t(n), s.h))
	})
}

// CopyHtoD copies src to dst asynchronously; src must lie in a HostBuffer.
func (s *Stream) CopyHtoD(dst DevicePtr, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	if err := s.ctx.checkPinned(src); err != nil {
		return err
	}
	p := unsafe.Pointer(&src[0]) // C memory: see checkPinned
	return s.ctx.do(func() error {
		return cuErr("cuMemcpyHtoDAsync", C.t_cuMemcpyHtoDAsync(C.CUdeviceptr(dst), p, C.size_t(len(src)), s.h))
	})
}

// CopyDtoH copies len(dst) bytes from src asynchronously; dst must lie in a
// HostBuffer.
func (s *Stream) CopyDtoH(dst []byte, src DevicePtr) error {
	if len(dst) == 0 {
		return nil
	}
	if err := s.ctx.checkPinned(dst); err != nil {
		return err
	}
	p := unsafe.Pointer(&dst[0])
	return s.ctx.do(func() error {
		return cuErr("cuMemcpyDtoHAsync", C.t_cuMemcpyDtoHAsync(p, C.CUdeviceptr(src), C.size_t(len(dst)), s.h))
	})
}

// CopyDtoD copies n bytes from src to dst asynchronously.
func (s *Stream) CopyDtoD(dst, src DevicePtr, n int) error {
	if n == 0 {
		return nil
	}
	return s.ctx.do(func() error {
		return cuErr("cuMemcpyDtoDAsync", C.t_cuMemcpyDtoDAsync(C.CUdeviceptr(dst), C.CUdeviceptr(src), C.size_t(n), s.h))
	})
}

// Dim3 is a grid or block shape; a zero field means 1.
type Dim3 struct{ X, Y, Z int }

func (d Dim3) dims() (x, y, z C.uint) {
	one := func(v int) C.uint {
		if v <= 0 {
			return 1
		}
		return C.uint(v)
	}
	return one(d.X), one(d.Y), one(d.Z)
}

// Launch enqueues fn on the stream. Each argument is one kernel parameter
// of at most 8 bytes: DevicePtr or *Buffer (a pointer parameter), int
// (passed as a 32-bit int, as CUDA C's int), int8..int64, uint8..uint64,
// float32, float64 or bool. The values are copied into C memory, so the
// call keeps nothing of the caller's.
func (s *Stream) Launch(fn *Function, grid, block Dim3, sharedMem int, args ...any) error {
	if fn == nil || fn.h == nil {
		return diag.Errorf(diag.InvalidArgument, "cuda: Launch of a nil function")
	}
	vals := make([]C.uint64_t, len(args)+1) // +1 so &vals[0] exists
	for i, a := range args {
		v, err := packArg(a)
		if err != nil {
			return diag.Errorf(diag.InvalidArgument, "cuda: Launch %s argument %d: %v", fn.name, i, err)
		}
		vals[i] = C.uint64_t(v)
	}
	gx, gy, gz := grid.dims()
	bx, by, bz := block.dims()
	return s.ctx.do(func() error {
		r := C.trtc_launch(fn.h, gx, gy, gz, bx, by, bz, C.uint(sharedMem), s.h, C.int(len(args)), &vals[0])
		return cuErr("cuLaunchKernel("+fn.name+")", r)
	})
}

func packArg(a any) (uint64, error) {
	switch v := a.(type) {
	case DevicePtr:
		return uint64(v), nil
	case *Buffer:
		return uint64(v.Ptr()), nil
	case int:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return 0, fmt.Errorf("int %d does not fit a 32-bit int; pass int64", v)
		}
		return uint64(uint32(int32(v))), nil
	case int8:
		return uint64(uint8(v)), nil
	case int16:
		return uint64(uint16(v)), nil
	case int32:
		return uint64(uint32(v)), nil
	case int64:
		return uint64(v), nil
	case uint8:
		return uint64(v), nil
	case uint16:
		return uint64(v), nil
	case uint32:
		return uint64(v), nil
	case uint64:
		return v, nil
	case uintptr:
		return uint64(v), nil
	case float32:
		return uint64(math.Float32bits(v)), nil
	case float64:
		return math.Float64bits(v), nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("unsupported type %T", a)
}

// Event is a CUDA event with timing.
type Event struct {
	ctx *Context
	h   C.CUevent
}

// NewEvent creates an event that records time.
func (c *Context) NewEvent() (*Event, error) {
	e := &Event{ctx: c}
	if err := c.do(func() error { return cuErr("cuEventCreate", C.t_cuEventCreate(&e.h, 0)) }); err != nil {
		return nil, err
	}
	setLeakFinalizer(e, func(e *Event) bool { return e.h == nil }, func(*Event) string { return "event" })
	return e, nil
}

// Record enqueues the event on s.
func (e *Event) Record(s *Stream) error {
	return e.ctx.do(func() error { return cuErr("cuEventRecord", C.t_cuEventRecord(e.h, s.h)) })
}

// Synchronize waits for the event.
func (e *Event) Synchronize() error {
	return e.ctx.do(func() error { return cuErr("cuEventSynchronize", C.t_cuEventSynchronize(e.h)) })
}

// Close destroys the event.
func (e *Event) Close() error {
	if e == nil || e.h == nil {
		return nil
	}
	h := e.h
	e.h = nil
	return e.ctx.do(func() error { return cuErr("cuEventDestroy", C.t_cuEventDestroy(h)) })
}

// Elapsed is the GPU time between two recorded, completed events
// (resolution about half a microsecond).
func Elapsed(start, end *Event) (time.Duration, error) {
	var ms C.float
	err := start.ctx.do(func() error { return cuErr("cuEventElapsedTime", C.t_cuEventElapsedTime(&ms, start.h, end.h)) })
	return time.Duration(float64(ms) * float64(time.Millisecond)), err
}

// Graph is a captured CUDA graph.
type Graph struct {
	ctx *Context
	h   C.CUgraph
}

// GraphExec is an instantiated graph, ready to launch.
type GraphExec struct {
	ctx *Context
	h   C.CUgraphExec
}

// BeginCapture starts capturing the stream's work into a graph. The mode
// is relaxed: a goroutine may move between threads during the capture, so
// thread-local or global modes would reject legitimate calls.
func (s *Stream) BeginCapture() error {
	return s.ctx.do(func() error {
		return cuErr("cuStreamBeginCapture", C.t_cuStreamBeginCapture(s.h, 2 /* CU_STREAM_CAPTURE_MODE_RELAXED */))
	})
}

// EndCapture ends the capture and returns the graph.
func (s *Stream) EndCapture() (*Graph, error) {
	g := &Graph{ctx: s.ctx}
	if err := s.ctx.do(func() error { return cuErr("cuStreamEndCapture", C.t_cuStreamEndCapture(s.h, &g.h)) }); err != nil {
		return nil, err
	}
	setLeakFinalizer(g, func(g *Graph) bool { return g.h == nil }, func(*Graph) string { return "graph" })
	return g, nil
}

// Capture records what f enqueues on s and returns it instantiated.
func (s *Stream) Capture(f func() error) (*GraphExec, error) {
	if err := s.BeginCapture(); err != nil {
		return nil, err
	}
	ferr := f()
	g, err := s.EndCapture()
	if ferr != nil {
		if g != nil {
			g.Close()
		}
		return nil, ferr
	}
	if err != nil {
		return nil, err
	}
	defer g.Close()
	return g.Instantiate()
}

// Instantiate makes an executable graph.
func (g *Graph) Instantiate() (*GraphExec, error) {
	e := &GraphExec{ctx: g.ctx}
	if err := g.ctx.do(func() error { return cuErr("cuGraphInstantiate", C.t_cuGraphInstantiate(&e.h, g.h, 0)) }); err != nil {
		return nil, err
	}
	setLeakFinalizer(e, func(e *GraphExec) bool { return e.h == nil }, func(*GraphExec) string { return "graph exec" })
	return e, nil
}

// Close destroys the graph (instantiated copies stay valid).
func (g *Graph) Close() error {
	if g == nil || g.h == nil {
		return nil
	}
	h := g.h
	g.h = nil
	return g.ctx.do(func() error { return cuErr("cuGraphDestroy", C.t_cuGraphDestroy(h)) })
}

// Launch enqueues the graph on s.
func (e *GraphExec) Launch(s *Stream) error {
	return e.ctx.do(func() error { return cuErr("cuGraphLaunch", C.t_cuGraphLaunch(e.h, s.h)) })
}

// Close destroys the executable graph.
func (e *GraphExec) Close() error {
	if e == nil || e.h == nil {
		return nil
	}
	h := e.h
	e.h = nil
	return e.ctx.do(func() error { return cuErr("cuGraphExecDestroy", C.t_cuGraphExecDestroy(h)) })
}

// Module is loaded device code.
type Module struct {
	ctx *Context
	h   C.CUmodule
}

// Function is a kernel in a Module.
type Function struct {
	mod  *Module
	name string
	h    C.CUfunction
}

// LoadModule loads a cubin (or PTX, or fatbin) image.
func (c *Context) LoadModule(image []byte) (*Module, error) {
	if len(image) == 0 {
		return nil, diag.Errorf(diag.InvalidArgument, "cuda: LoadModule of an empty image")
	}
	m := &Module{ctx: c}
	cimg := C.CBytes(image)
	defer C.free(cimg)
	if err := c.do(func() error { return cuErr("cuModuleLoadData", C.t_cuModuleLoadData(&m.h, cimg)) }); err != nil {
		return nil, err
	}
	setLeakFinalizer(m, func(m *Module) bool { return m.h == nil }, func(*Module) string { return "module" })
	return m, nil
}

// Function looks up a kernel by its (extern "C" or mangled) name.
func (m *Module) Function(name string) (*Function, error) {
	f := &Function{mod: m, name: name}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if err := m.ctx.do(func() error { return cuErr("cuModuleGetFunction("+name+")", C.t_cuModuleGetFunction(&f.h, m.h, cname)) }); err != nil {
		return nil, err
	}
	return f, nil
}

// Close unloads the module; its Functions become invalid.
func (m *Module) Close() error {
	if m == nil || m.h == nil {
		return nil
	}
	h := m.h
	m.h = nil
	return m.ctx.do(func() error { return cuErr("cuModuleUnload", C.t_cuModuleUnload(h)) })
}

// Name is the kernel's name.
func (f *Function) Name() string { return f.name }

// NumRegs is the number of registers each thread uses.
func (f *Function) NumRegs() (int, error) { return f.attr(4) }

// MaxThreadsPerBlock is the largest block the kernel can be launched with.
func (f *Function) MaxThreadsPerBlock() (int, error) { return f.attr(0) }

func (f *Function) attr(a int) (int, error) {
	var v C.int
	err := f.mod.ctx.do(func() error { return cuErr("cuFuncGetAttribute", C.t_cuFuncGetAttribute(&v, C.int(a), f.h)) })
	return int(v), err
}

// SetMaxDynamicSharedMemory lets launches ask for up to n bytes of dynamic
// shared memory (needed above 48 KiB).
func (f *Function) SetMaxDynamicSharedMemory(n int) error {
	return f.mod.ctx.do(func() error {
		return cuErr("cuFuncSetAttribute", C.t_cuFuncSetAttribute(f.h, 8 /* CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES */, C.int(n)))
	})
}
