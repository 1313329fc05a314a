package cuda

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"github.com/trtc/trtc/diag"
)

func nvrtcErr(op string, r C.nvrtcResult, log string) error {
	if r == 0 {
		return nil
	}
	st := &Status{Library: "NVRTC", Code: int(r), Name: C.GoString(C.t_nvrtcGetErrorString(r))}
	code := diag.Internal
	msg := op + " failed"
	if r == 6 { // NVRTC_ERROR_COMPILATION: the source is the caller's
		code = diag.InvalidArgument
	}
	if log != "" {
		msg += "; compile log:\n" + strings.TrimRight(log, "\n\x00")
	}
	return diag.Wrap(code, st, "%s", msg)
}

// NVRTCVersion loads NVRTC and returns its version.
func NVRTCVersion() (major, minor int, err error) {
	if err := libNVRTC.load(); err != nil {
		return 0, 0, err
	}
	var ma, mi C.int
	err = nvrtcErr("nvrtcVersion", C.t_nvrtcVersion(&ma, &mi), "")
	return int(ma), int(mi), err
}

// CompileNVRTC compiles CUDA C++ for the context's device (see Compile).
func (c *Context) CompileNVRTC(src, name string, opts []string) ([]byte, error) {
	return Compile(src, name, c.props.Arch, opts)
}

// Compile compiles CUDA C++ source with NVRTC into a cubin for arch
// ("sm_90"). Unless opts say otherwise it adds --gpu-architecture=arch,
// -default-device and -std=c++17. NVRTC 13.0 does not have cuda_fp16.h or
// cuda_bf16.h built in (seen on the H200 machine: "could not open source
// file"), so a compile that cannot open a header is retried once with the
// CUDA toolkit's include folders (CUDA_HOME, CUDA_PATH, /usr/local/cuda),
// when one is installed. The compile log is in the error.
func Compile(src, name, arch string, opts []string) ([]byte, error) {
	if err := libNVRTC.load(); err != nil {
		return nil, err
	}
	has := func(prefixes ...string) bool {
		for _, o := range opts {
			for _, p := range prefixes {
				if strings.HasPrefix(o, p) {
					return true
				}
			}
		}
		return false
	}
	all := append([]string(nil), opts...)
	if !has("--gpu-architecture", "-arch") {
		all = append(all, "--gpu-architecture="+arch)
	}
	if !has("-default-device", "--device-as-default-execution-space") {
		all = append(all, "-default-device")
	}
	if !has("-std", "--std") {
		all = append(all, "-std=c++17")
	}
	cubin, log, err := compile(src, name, all)
	if err != nil && strings.Contains(log, "open source file") && !has("-I", "--include-path") {
		if inc := cudaIncludeDir(); inc != "" {
			with := append(all, "--include-path="+inc)
			if _, err := os.Stat(filepath.Join(inc, "cccl")); err == nil {
				with = append(with, "--include-path="+filepath.Join(inc, "cccl"))
			}
			cubin, _, err = compile(src, name, with)
		}
	}
	return cubin, err
}

// cudaIncludeDir is the CUDA toolkit's include folder, if there is one.
func cudaIncludeDir() string {
	var dirs []string
	for _, env := range []string{"CUDA_HOME", "CUDA_PATH"} {
		if p := os.Getenv(env); p != "" {
			dirs = append(dirs, filepath.Join(p, "include"))
		}
	}
	dirs = append(dirs, "/usr/local/cuda/include", "/usr/include")
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "cuda_fp16.h")); err == nil {
			return d
		}
	}
	return ""
}

func compile(src, name string, opts []string) (cubin []byte, log string, err error) {
	csrc := C.CString(src)
	defer C.free(unsafe.Pointer(csrc))
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var prog C.nvrtcProgram
	if err := nvrtcErr("nvrtcCreateProgram("+name+")", C.t_nvrtcCreateProgram(&prog, csrc, cname, 0, nil, nil), ""); err != nil {
		return nil, "", err
	}
	defer C.t_nvrtcDestroyProgram(&prog)

	// The options array lives in C memory: a Go array of C pointers would
	// be fine too, but this keeps the rule simple.
	copts := (*[1 << 20]*C.char)(C.malloc(C.size_t(len(opts)+1) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))[: len(opts)+1 : len(opts)+1]
	for i, o := range opts {
		copts[i] = C.CString(o)
	}
	defer func() {
		for i := range opts {
			C.free(unsafe.Pointer(copts[i]))
		}
		C.free(unsafe.Pointer(&copts[0]))
	}()
	r := C.t_nvrtcCompileProgram(prog, C.int(len(opts)), &copts[0])

	var n C.size_t
	if C.t_nvrtcGetProgramLogSize(prog, &n) == 0 && n > 1 {
		buf := make([]byte, n)
		if C.t_nvrtcGetProgramLog(prog, (*C.char)(unsafe.Pointer(&buf[0]))) == 0 {
			log = string(buf[:n-1])
		}
	}
	if err := nvrtcErr(fmt.Sprintf("NVRTC compile of %s (%s)", name, strings.Join(opts, " ")), r, log); err != nil {
		return nil, log, err
	}
	if err := nvrtcErr("nvrtcGetCUBINSize", C.t_nvrtcGetCUBINSize(prog, &n), ""); err != nil {
		return nil, log, err
	}
	if n == 0 {
		return nil, log, diag.Errorf(diag.InvalidArgument, "NVRTC made no cubin for %s: the options %q name a virtual architecture (compute_XX); use sm_XX", name, opts)
	}
	cubin = make([]byte, n)
	if err := nvrtcErr("nvrtcGetCUBIN", C.t_nvrtcGetCUBIN(prog, (*C.char)(unsafe.Pointer(&cubin[0]))), ""); err != nil {
		return nil, log, err
	}
	return cubin, log, nil
}
