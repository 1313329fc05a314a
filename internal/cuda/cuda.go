// Package cuda is trtc's only door to the GPU: the CUDA driver API, NVRTC,
// cuBLASLt and cuDNN, loaded at run time with dlopen so that building trtc
// needs no CUDA header or library and the same binary runs on a laptop.
//
// # Loading
//
// Each library is opened the first time something needs it: libcuda.so.1
// (the driver, by NewContext, Available and the device queries),
// libnvrtc.so.13/.12/.11.2 (Compile), libcublasLt.so.13/.12 (NewBlasLt) and
// libcudnn.so.9 (NewCudnn). Bare names are tried first, so LD_LIBRARY_PATH
// and the ld.so cache decide, then the usual install folders
// (/usr/local/nvidia/lib64, /usr/local/cuda/lib64, ...); the folders in
// TRTC_CUDA_LIB_PATH (colon-separated) come before all of them. A library
// that cannot be found is a diag.NoDevice error naming every path tried.
// The prototypes are declared in shim.h, with types of our own, from the
// CUDA 13.0 and cuDNN 9.14 headers.
//
// # Threads
//
// A CUDA context is current per OS thread, and goroutines move between
// threads. Every call that needs the context goes through Context.do, which
// locks the goroutine to its thread, makes the context current
// (cuCtxSetCurrent, a thread-local store) and makes the call. This is
// simpler than a worker goroutine per context (no channels, no deadlock when
// a callback calls back in), lets several goroutines use one context at
// once as CUDA allows, and costs one extra cgo call per operation. Contexts
// are device primary contexts, which the CUDA runtime (inside cuBLASLt and
// cuDNN) shares, so those libraries see the same context.
//
// # Errors and memory
//
// Every status code becomes a *diag.Error (diag.OutOfMemory for out of
// memory, diag.NoDevice for a missing GPU, driver or library, diag.Internal
// for the rest) whose cause is a *Status with the library's own code and
// name. No Go pointer is kept by C beyond a call: kernel arguments are
// copied into C memory, asynchronous copies accept only pinned host memory
// (AllocHost), and descriptors are C pointers held in Go. Handles are small
// structs with Close; finalizers only report leaks (see LeakHandler).
package cuda

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/trtc/trtc/diag"
)

// Status is a raw status code from one of the CUDA libraries. It is the
// cause (errors.As) of every error this package returns for a failed call.
type Status struct {
	Library string // "CUDA", "NVRTC", "cuBLASLt", "cuDNN"
	Code    int    // the library's own code, e.g. 2 for CUDA_ERROR_OUT_OF_MEMORY
	Name    string // e.g. "CUDA_ERROR_OUT_OF_MEMORY"
	Message string // the library's description, when it has one
}

func (s *Status) Error() string {
	msg := fmt.Sprintf("%s (%d)", s.Name, s.Code)
	if s.Message != "" && s.Message != s.Name {
		msg += ": " + s.Message
	}
	return msg
}

// LeakHandler is called by finalizers when a handle is garbage collected
// without Close; it logs by default. Tests may replace it to count leaks.
var LeakHandler = func(what string) { log.Printf("trtc/cuda: leaked %s (Close was never called)", what) }

func setLeakFinalizer[T any](obj *T, closed func(*T) bool, what func(*T) string) {
	runtime.SetFinalizer(obj, func(o *T) {
		if !closed(o) {
			LeakHandler(what(o))
		}
	})
}

// library is one dlopened shared library.
type library struct {
	what  string   // what it is, for messages: "the CUDA driver"
	names []string // file names in order of preference
	id    C.int
	once  sync.Once
	h     unsafe.Pointer
	path  string // the file it was loaded from
	err   error
}

var (
	libCUDA     = &library{what: "the CUDA driver", names: []string{"libcuda.so.1"}, id: C.TRTC_LIB_CUDA}
	libNVRTC    = &library{what: "NVRTC", names: []string{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}, id: C.TRTC_LIB_NVRTC}
	libCublasLt = &library{what: "cuBLASLt", names: []string{"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"}, id: C.TRTC_LIB_LT}
	libCudnn    = &library{what: "cuDNN 9", names: []string{"libcudnn.so.9"}, id: C.TRTC_LIB_CUDNN}
)

// searchDirs are the folders tried after the bare names, in order.
func searchDirs() []string {
	var dirs []string
	if p := os.Getenv("TRTC_CUDA_LIB_PATH"); p != "" {
		dirs = append(dirs, filepath.SplitList(p)...)
	}
	for _, env := range []string{"CUDA_HOME", "CUDA_PATH"} {
		if p := os.Getenv(env); p != "" {
			dirs = append(dirs, filepath.Join(p, "lib64"))
		}
	}
	return append(dirs,
		"/usr/local/nvidia/lib64",
		"/usr/lib/x86_64-linux-gnu",
		"/lib/x86_64-linux-gnu",
		"/usr/lib64",
		"/usr/local/cuda/lib64",
		"/usr/local/cuda/targets/x86_64-linux/lib",
		"/usr/lib/wsl/lib",
	)
}

// candidates lists what load tries: folders from TRTC_CUDA_LIB_PATH first,
// then the bare names (the dynamic loader's own search), then the folders.
func (l *library) candidates() []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if p := os.Getenv("TRTC_CUDA_LIB_PATH"); p != "" {
		for _, d := range filepath.SplitList(p) {
			for _, n := range l.names {
				add(filepath.Join(d, n))
			}
		}
	}
	for _, n := range l.names {
		add(n)
	}
	for _, d := range searchDirs() {
		for _, n := range l.names {
			add(filepath.Join(d, n))
		}
	}
	return out
}

func (l *library) load() error {
	l.once.Do(func() { l.err = l.open(l.candidates()) })
	return l.err
}

// open tries each path; the first that opens and has every symbol wins.
func (l *library) open(paths []string) error {
	var tried []string
	for _, p := range paths {
		cp := C.CString(p)
		var cerr *C.char
		h := C.trtc_dlopen(cp, &cerr)
		C.free(unsafe.Pointer(cp))
		if h == nil {
			reason := "not found"
			if cerr != nil {
				reason = C.GoString(cerr)
				if !strings.Contains(reason, "No such file") {
					reason = strings.TrimPrefix(reason, p+": ")
				} else {
					reason = "not found"
				}
			}
			tried = append(tried, p+" ("+reason+")")
			continue
		}
		if missing := C.trtc_resolve(l.id, h); missing != nil {
			tried = append(tried, p+" (lacks "+C.GoString(missing)+")")
			C.trtc_dlclose(h)
			continue
		}
		l.h = unsafe.Pointer(h)
		l.path = p
		if !filepath.IsAbs(p) {
			first := map[C.int]string{C.TRTC_LIB_CUDA: "cuInit", C.TRTC_LIB_NVRTC: "nvrtcVersion", C.TRTC_LIB_LT: "cublasLtCreate", C.TRTC_LIB_CUDNN: "cudnnCreate"}[l.id]
			cs := C.CString(first)
			if real := C.GoString(C.trtc_dlpath(h, cs)); real != "" {
				l.path = real
			}
			C.free(unsafe.Pointer(cs))
		}
		return nil
	}
	return diag.Errorf(diag.NoDevice, "cannot load %s (%s); tried %s; install it or add its folder to TRTC_CUDA_LIB_PATH",
		l.names[0], l.what, strings.Join(tried, ", "))
}

// Path is the file the library was loaded from, "" before it is loaded.
func (l *library) Path() string {
	if l.load() != nil {
		return ""
	}
	return l.path
}

var (
	driverOnce sync.Once
	driverErr  error
)

// initDriver loads libcuda.so.1 and calls cuInit once.
func initDriver() error {
	driverOnce.Do(func() {
		if driverErr = libCUDA.load(); driverErr != nil {
			return
		}
		driverErr = cuErr("cuInit", C.t_cuInit(0))
	})
	return driverErr
}

// Available reports whether a CUDA GPU can be used: nil when libcuda.so.1
// loads, cuInit succeeds and there is at least one device; otherwise a
// diag.NoDevice error that names what is missing and where it looked.
func Available() error {
	if err := initDriver(); err != nil {
		return err
	}
	n, err := DeviceCount()
	if err != nil {
		return err
	}
	if n == 0 {
		return diag.Errorf(diag.NoDevice, "the CUDA driver (%s) sees no GPU", libCUDA.path)
	}
	return nil
}

// cuErr converts a CUresult into an error (nil for CUDA_SUCCESS).
func cuErr(op string, r C.CUresult) error {
	if r == 0 {
		return nil
	}
	st := &Status{Library: "CUDA", Code: int(r), Name: fmt.Sprintf("CUresult(%d)", int(r))}
	var s *C.char
	if C.t_cuGetErrorName(r, &s) == 0 && s != nil {
		st.Name = C.GoString(s)
	}
	if C.t_cuGetErrorString(r, &s) == 0 && s != nil {
		st.Message = C.GoString(s)
	}
	code := diag.Internal
	switch r {
	case 2: // CUDA_ERROR_OUT_OF_MEMORY
		code = diag.OutOfMemory
	case 100, 101, 34, 35, 46, 803, 804: // NO_DEVICE, INVALID_DEVICE, STUB_LIBRARY, INSUFFICIENT_DRIVER, DEVICE_UNAVAILABLE, SYSTEM_DRIVER_MISMATCH, COMPAT_NOT_SUPPORTED_ON_DEVICE
		code = diag.NoDevice
	case 1: // CUDA_ERROR_INVALID_VALUE
		code = diag.InvalidArgument
	case 200, 209, 218, 222: // INVALID_IMAGE, NO_BINARY_FOR_GPU, INVALID_PTX, UNSUPPORTED_PTX_VERSION
		code = diag.EngineIncompatible
	}
	msg := op + " failed"
	if code == diag.NoDevice {
		msg += fmt.Sprintf(" (driver %s)", libCUDA.path)
	}
	return diag.Wrap(code, st, "%s", msg)
}
