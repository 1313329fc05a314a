package cuda

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/trtc/trtc/diag"
)

// Properties describes one GPU.
type Properties struct {
	Ordinal                int
	Name                   string // e.g. "NVIDIA H200"
	Major, Minor           int    // compute capability
	Arch                   string // "sm_90": the NVRTC target and the engine's GPU architecture
	TotalMemory            uint64 // bytes
	SMs                    int    // multiprocessors
	MaxThreadsPerBlock     int
	WarpSize               int
	SharedMemPerBlock      int // bytes without opt-in
	SharedMemPerBlockOptin int // bytes a kernel may ask for with SetMaxDynamicSharedMemory
	L2CacheSize            int // bytes
	ClockKHz               int
	MemoryClockKHz         int
	MemoryBusWidth         int // bits
}

// DriverVersion returns the CUDA driver's version, e.g. 13000 for 13.0.
func DriverVersion() (int, error) {
	if err := initDriver(); err != nil {
		return 0, err
	}
	var v C.int
	if err := cuErr("cuDriverGetVersion", C.t_cuDriverGetVersion(&v)); err != nil {
		return 0, err
	}
	return int(v), nil
}

// DeviceCount returns the number of CUDA devices.
func DeviceCount() (int, error) {
	if err := initDriver(); err != nil {
		return 0, err
	}
	var n C.int
	if err := cuErr("cuDeviceGetCount", C.t_cuDeviceGetCount(&n)); err != nil {
		return 0, err
	}
	return int(n), nil
}

func device(ordinal int) (C.CUdevice, error) {
	if err := initDriver(); err != nil {
		return 0, err
	}
	n, err := DeviceCount()
	if err != nil {
		return 0, err
	}
	if ordinal < 0 || ordinal >= n {
		return 0, diag.Errorf(diag.NoDevice, "there is no CUDA device %d (the driver sees %d)", ordinal, n)
	}
	var d C.CUdevice
	if err := cuErr("cuDeviceGet", C.t_cuDeviceGet(&d, C.int(ordinal))); err != nil {
		return 0, err
	}
	return d, nil
}

// DeviceProperties queries device ordinal.
func DeviceProperties(ordinal int) (Properties, error) {
	d, err := device(ordinal)
	if err != nil {
		return Properties{}, err
	}
	p := Properties{Ordinal: ordinal}
	var name [256]C.char
	if err := cuErr("cuDeviceGetName", C.t_cuDeviceGetName(&name[0], C.int(len(name)), d)); err != nil {
		return p, err
	}
	p.Name = C.GoString(&name[0])
	var total C.size_t
	if err := cuErr("cuDeviceTotalMem", C.t_cuDeviceTotalMem(&total, d)); err != nil {
		return p, err
	}
	p.TotalMemory = uint64(total)
	for _, a := range []struct {
		attr int
		dst  *int
	}{
		{75, &p.Major}, {76, &p.Minor}, {16, &p.SMs}, {1, &p.MaxThreadsPerBlock}, {10, &p.WarpSize},
		{8, &p.SharedMemPerBlock}, {97, &p.SharedMemPerBlockOptin}, {38, &p.L2CacheSize},
		{13, &p.ClockKHz}, {36, &p.MemoryClockKHz}, {37, &p.MemoryBusWidth},
	} {
		var v C.int
		if err := cuErr(fmt.Sprintf("cuDeviceGetAttribute(%d)", a.attr), C.t_cuDeviceGetAttribute(&v, C.int(a.attr), d)); err != nil {
			return p, err
		}
		*a.dst = int(v)
	}
	p.Arch = fmt.Sprintf("sm_%d%d", p.Major, p.Minor)
	return p, nil
}

// Context is a device's primary context, retained. All work on the device
// goes through it; it is safe for concurrent use.
type Context struct {
	dev   C.CUdevice
	ctx   C.CUcontext
	props Properties

	mu     sync.Mutex
	closed bool
	pinned map[*HostBuffer]struct{} // live pinned buffers, for async-copy checks
}

// NewContext retains the primary context of device ordinal.
func NewContext(ordinal int) (*Context, error) {
	props, err := DeviceProperties(ordinal)
	if err != nil {
		return nil, err
	}
	d, err := device(ordinal)
	if err != nil {
		return nil, err
	}
	c := &Context{dev: d, props: props, pinned: map[*HostBuffer]struct{}{}}
	if err := cuErr("cuDevicePrimaryCtxRetain", C.t_cuDevicePrimaryCtxRetain(&c.ctx, d)); err != nil {
		return nil, err
	}
	setLeakFinalizer(c, func(c *Context) bool { return c.closed }, func(c *Context) string {
		return fmt.Sprintf("context on device %d", c.props.Ordinal)
	})
	return c, nil
}

// Properties describes the context's device.
func (c *Context) Properties() Properties { return c.props }

// Arch is the device's architecture, e.g. "sm_90".
func (c *Context) Arch() string { return c.props.Arch }

// do runs f on a locked OS thread with the context current (see the
// package comment for why this design).
func (c *Context) do(f func() error) error {
	if c == nil || c.ctx == nil {
		return diag.Errorf(diag.InvalidArgument, "use of a nil or closed CUDA context")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cuErr("cuCtxSetCurrent", C.t_cuCtxSetCurrent(c.ctx)); err != nil {
		return err
	}
	return f()
}

// Synchronize waits for all work on the device.
func (c *Context) Synchronize() error {
	return c.do(func() error { return cuErr("cuCtxSynchronize", C.t_cuCtxSynchronize()) })
}

// MemGetInfo returns the device's free and total memory in bytes.
func (c *Context) MemGetInfo() (free, total uint64, err error) {
	var f, t C.size_t
	err = c.do(func() error { return cuErr("cuMemGetInfo", C.t_cuMemGetInfo(&f, &t)) })
	return uint64(f), uint64(t), err
}

// Close releases the primary context. Everything made from it must be
// closed first.
func (c *Context) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	err := cuErr("cuDevicePrimaryCtxRelease", C.t_cuDevicePrimaryCtxRelease(c.dev))
	c.ctx = nil
	return err
}

// DevicePtr is a device address. It is a number, not a Go pointer.
type DevicePtr uint64

// Add offsets the address by n bytes.
func (p DevicePtr) Add(n int) DevicePtr { return p + DevicePtr(n) }

// Buffer is device memory from Alloc.
type Buffer struct {
	ctx  *Context
	ptr  DevicePtr
	size int
}

// Alloc allocates n bytes of device memory (256-byte aligned). A failure
// for lack of memory is a diag.OutOfMemory error.
func (c *Context) Alloc(n int) (*Buffer, error) {
	if n <= 0 {
		return nil, diag.Errorf(diag.InvalidArgument, "cuda: Alloc of %d bytes", n)
	}
	var p C.CUdeviceptr
	err := c.do(func() error {
		return cuErr(fmt.Sprintf("cuMemAlloc(%d bytes)", n), C.t_cuMemAlloc(&p, C.size_t(n)))
	})
	if err != nil {
		return nil, err
	}
	b := &Buffer{ctx: c, ptr: DevicePtr(p), size: n}
	setLeakFinalizer(b, func(b *Buffer) bool { return b.ptr == 0 }, func(b *Buffer) string {
		return fmt.Sprintf("device buffer of %d bytes", b.size)
	})
	return b, nil
}

// Ptr is the buffer's device address (0 after Free).
func (b *Buffer) Ptr() DevicePtr { return b.ptr }

// Size is the buffer's length in bytes.
func (b *Buffer) Size() int { return b.size }

// Free releases the memory; a second Free does nothing.
func (b *Buffer) Free() error {
	if b == nil || b.ptr == 0 {
		return nil
	}
	p := b.ptr
	b.ptr = 0
	return b.ctx.do(func() error { return cuErr("cuMemFree", C.t_cuMemFree(C.CUdeviceptr(p))) })
}

// Close is Free.
func (b *Buffer) Close() error { return b.Free() }

// CopyFromHost copies src to the start of the buffer.
func (b *Buffer) CopyFromHost(src []byte) error {
	if len(src) > b.size {
		return diag.Errorf(diag.OutOfRange, "cuda: copy of %d bytes into a buffer of %d", len(src), b.size)
	}
	return b.ctx.CopyHtoD(b.ptr, src)
}

// CopyToHost copies the start of the buffer into dst.
func (b *Buffer) CopyToHost(dst []byte) error {
	if len(dst) > b.size {
		return diag.Errorf(diag.OutOfRange, "cuda: copy of %d bytes out of a buffer of %d", len(dst), b.size)
	}
	return b.ctx.CopyDtoH(dst, b.ptr)
}

// MemsetD8 sets n bytes at dst to v, synchronously.
func (c *Context) MemsetD8(dst DevicePtr, v byte, n int) error {
	return c.do(func() error {
		return cuErr("cuMemsetD8", C.t_cuMemsetD8(C.CUdeviceptr(dst), C.uchar(v), C.size_t(n)))
	})
}

// CopyHtoD copies src to dst, synchronously.
func (c *Context) CopyHtoD(dst DevicePtr, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	return c.do(func() error {
		return cuErr("cuMemcpyHtoD", C.t_cuMemcpyHtoD(C.CUdeviceptr(dst), unsafe.Pointer(&src[0]), C.size_t(len(src))))
	})
}

// CopyDtoH copies len(dst) bytes from src into dst, synchronously.
func (c *Context) CopyDtoH(dst []byte, src DevicePtr) error {
	if len(dst) == 0 {
		return nil
	}
	return c.do(func() error {
		return cuErr("cuMemcpyDtoH", C.t_cuMemcpyDtoH(unsafe.Pointer(&dst[0]), C.CUdeviceptr(src), C.size_t(len(dst))))
	})
}

// CopyDtoD copies n bytes from src to dst, synchronously.
func (c *Context) CopyDtoD(dst, src DevicePtr, n int) error {
	if n == 0 {
		return nil
	}
	return c.do(func() error {
		return cuErr("cuMemcpyDtoD", C.t_cuMemcpyDtoD(C.CUdeviceptr(dst), C.CUdeviceptr(src), C.size_t(n)))
	})
}

// HostBuffer is page-locked host memory (cuMemHostAlloc): C memory, so it
// may be the source or target of asynchronous copies.
type HostBuffer struct {
	ctx *Context
	p   unsafe.Pointer
	n   int
}

// AllocHost allocates n bytes of pinned host memory, portable across
// contexts.
func (c *Context) AllocHost(n int) (*HostBuffer, error) {
	if n <= 0 {
		return nil, diag.Errorf(diag.InvalidArgument, "cuda: AllocHost of %d bytes", n)
	}
	var p unsafe.Pointer
	err := c.do(func() error {
		return cuErr(fmt.Sprintf("cuMemHostAlloc(%d bytes)", n), C.t_cuMemHostAlloc(&p, C.size_t(n), 1 /* CU_MEMHOSTALLOC_PORTABLE */))
	})
	if err != nil {
		return nil, err
	}
	h := &HostBuffer{ctx: c, p: p, n: n}
	c.mu.Lock()
	c.pinned[h] = struct{}{}
	c.mu.Unlock()
	setLeakFinalizer(h, func(h *HostBuffer) bool { return h.p == nil }, func(h *HostBuffer) string {
		return fmt.Sprintf("pinned host buffer of %d bytes", h.n)
	})
	return h, nil
}

// Bytes is a Go view of the memory; it is invalid after Free.
func (h *HostBuffer) Bytes() []byte {
	if h.p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(h.p), h.n)
}

// Free releases the memory; a second Free does nothing.
func (h *HostBuffer) Free() error {
	if h == nil || h.p == nil {
		return nil
	}
	p := h.p
	h.p = nil
	h.ctx.mu.Lock()
	delete(h.ctx.pinned, h)
	h.ctx.mu.Unlock()
	return h.ctx.do(func() error { return cuErr("cuMemFreeHost", C.t_cuMemFreeHost(p)) })
}

// Close is Free.
func (h *HostBuffer) Close() error { return h.Free() }

// checkPinned reports whether b lies inside a live HostBuffer of c: only
// such memory may outlive the cgo call in an asynchronous copy.
func (c *Context) checkPinned(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	lo := uintptr(unsafe.Pointer(&b[0]))
	hi := lo + uintptr(len(b))
	c.mu.Lock()
	defer c.mu.Unlock()
	for h := range c.pinned {
		base := uintptr(h.p)
		if lo >= base && hi <= base+uintptr(h.n) {
			return nil
		}
	}
	return diag.Errorf(diag.InvalidArgument, "cuda: asynchronous copies need pinned host memory from AllocHost (Go memory cannot be handed to the GPU beyond a call)")
}
