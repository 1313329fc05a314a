package cuda

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/x448/float16"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

var (
	testCtxOnce sync.Once
	testCtx     *Context
	testCtxErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if testCtx != nil {
		testCtx.Close()
	}
	os.Exit(code)
}

// gpu returns the shared test context, or skips with a one-line reason.
func gpu(t *testing.T) *Context {
	t.Helper()
	if err := Available(); err != nil {
		msg, _, _ := strings.Cut(err.Error(), "; tried")
		t.Skipf("no GPU: %s", msg)
	}
	testCtxOnce.Do(func() { testCtx, testCtxErr = NewContext(0) })
	if testCtxErr != nil {
		t.Fatalf("NewContext: %v", testCtxErr)
	}
	return testCtx
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func randFloats(r *rand.Rand, n int) []float32 {
	f := make([]float32, n)
	for i := range f {
		f[i] = r.Float32()*2 - 1
	}
	return f
}

func f32bytes(f []float32) []byte {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func bytesF32(b []byte) []float32 {
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}

func f64(f []float32) []float64 {
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out
}

// upload allocates a buffer holding b (poisoned first, so a failed copy shows).
func upload(t *testing.T, c *Context, b []byte) *Buffer {
	t.Helper()
	buf, err := c.Alloc(len(b))
	must(t, err)
	must(t, c.MemsetD8(buf.Ptr(), 0xA5, len(b)))
	must(t, buf.CopyFromHost(b))
	return buf
}

// poisoned allocates n bytes filled with NaN-pattern 0xFF.
func poisoned(t *testing.T, c *Context, n int) *Buffer {
	t.Helper()
	buf, err := c.Alloc(n)
	must(t, err)
	must(t, c.MemsetD8(buf.Ptr(), 0xFF, n))
	return buf
}

func download(t *testing.T, b *Buffer) []byte {
	t.Helper()
	out := bytes.Repeat([]byte{0x5A}, b.Size())
	must(t, b.CopyToHost(out))
	return out
}

// ---- tests that run everywhere ----

func TestAvailableWithoutGPU(t *testing.T) {
	err := Available()
	if err == nil {
		t.Skip("a GPU is present: the no-GPU path is not reachable here")
	}
	if !errors.Is(err, diag.NoDevice) {
		t.Fatalf("Available() = %v, want a diag.NoDevice error", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "libcuda.so.1") {
		t.Errorf("error does not name libcuda.so.1: %s", msg)
	}
	if libCUDA.load() != nil && !strings.Contains(msg, "/usr/local/nvidia/lib64/libcuda.so.1") {
		t.Errorf("error does not list the paths tried: %s", msg)
	}
	if _, err := NewContext(0); !errors.Is(err, diag.NoDevice) {
		t.Errorf("NewContext(0) = %v, want diag.NoDevice", err)
	}
	t.Log(err)
}

func TestMissingLibraryNamesEveryPath(t *testing.T) {
	t.Setenv("TRTC_CUDA_LIB_PATH", "/nonexistent/trtc")
	l := &library{what: "a test library", names: []string{"libtrtc-missing.so.7"}, id: 0}
	err := l.load()
	if !errors.Is(err, diag.NoDevice) {
		t.Fatalf("load = %v, want diag.NoDevice", err)
	}
	for _, want := range []string{"libtrtc-missing.so.7 (", "/nonexistent/trtc/libtrtc-missing.so.7", "/usr/local/cuda/lib64/libtrtc-missing.so.7", "TRTC_CUDA_LIB_PATH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestPackArg(t *testing.T) {
	cases := []struct {
		in   any
		want uint64
	}{
		{DevicePtr(0x7000_0000_1000), 0x7000_0000_1000},
		{-1, 0xFFFF_FFFF},
		{int32(-2), 0xFFFF_FFFE},
		{int64(-1), math.MaxUint64},
		{float32(1.5), uint64(math.Float32bits(1.5))},
		{2.5, math.Float64bits(2.5)},
		{true, 1},
		{uint8(200), 200},
	}
	for _, c := range cases {
		got, err := packArg(c.in)
		if err != nil || got != c.want {
			t.Errorf("packArg(%T %v) = %#x, %v; want %#x", c.in, c.in, got, err, c.want)
		}
	}
	if _, err := packArg(1 << 40); err == nil {
		t.Error("packArg accepted an int beyond 32 bits")
	}
	if _, err := packArg("x"); err == nil {
		t.Error("packArg accepted a string")
	}
}

func TestProbe(t *testing.T) {
	r := Probe()
	t.Logf("probe:\n%s%s", r, r.Versions())
	if (r.Err == nil) != (len(r.Devices) > 0) {
		t.Errorf("Probe: Err %v but %d devices", r.Err, len(r.Devices))
	}
}

// ---- driver ----

func TestDeviceProperties(t *testing.T) {
	c := gpu(t)
	p := c.Properties()
	t.Logf("%+v", p)
	if !strings.HasPrefix(p.Arch, "sm_") || p.Arch != fmt.Sprintf("sm_%d%d", p.Major, p.Minor) {
		t.Errorf("Arch %q for compute capability %d.%d", p.Arch, p.Major, p.Minor)
	}
	if p.SMs <= 0 || p.TotalMemory == 0 || p.Name == "" || p.WarpSize != 32 || p.MaxThreadsPerBlock < 1024 {
		t.Errorf("implausible properties %+v", p)
	}
	free, total, err := c.MemGetInfo()
	must(t, err)
	if total != p.TotalMemory && total == 0 || free > total {
		t.Errorf("MemGetInfo free %d total %d (device %d)", free, total, p.TotalMemory)
	}
	v, err := DriverVersion()
	must(t, err)
	if v < 12000 {
		t.Errorf("driver version %d", v)
	}
}

func TestCopyRoundTrip(t *testing.T) {
	c := gpu(t)
	r := rand.New(rand.NewPCG(1, 2))
	const n = 1<<20 + 13
	src := randBytes(r, n)
	a := upload(t, c, src)
	defer a.Free()
	b := poisoned(t, c, n)
	defer b.Free()
	must(t, c.CopyDtoD(b.Ptr(), a.Ptr(), n))
	if got := download(t, b); !bytes.Equal(got, src) {
		t.Fatal("host -> device -> device -> host round trip changed the bytes")
	}
	// An offset copy.
	must(t, c.MemsetD8(b.Ptr(), 0, n))
	must(t, c.CopyHtoD(b.Ptr().Add(100), src[:1000]))
	got := make([]byte, 1100)
	must(t, c.CopyDtoH(got, b.Ptr()))
	if !bytes.Equal(got[100:], src[:1000]) || !bytes.Equal(got[:100], make([]byte, 100)) {
		t.Fatal("offset copy wrong")
	}
}

func TestPinnedAndAsyncCopies(t *testing.T) {
	c := gpu(t)
	r := rand.New(rand.NewPCG(3, 4))
	const n = 3<<20 + 7
	hin, err := c.AllocHost(n)
	must(t, err)
	defer hin.Free()
	hout, err := c.AllocHost(n)
	must(t, err)
	defer hout.Free()
	copy(hin.Bytes(), randBytes(r, n))
	for i := range hout.Bytes() {
		hout.Bytes()[i] = 0xEE
	}
	s, err := c.NewStream()
	must(t, err)
	defer s.Close()
	d1, err := c.Alloc(n)
	must(t, err)
	defer d1.Free()
	d2, err := c.Alloc(n)
	must(t, err)
	defer d2.Free()
	must(t, s.MemsetD8(d2.Ptr(), 0x11, n))
	must(t, s.CopyHtoD(d1.Ptr(), hin.Bytes()))
	must(t, s.CopyDtoD(d2.Ptr(), d1.Ptr(), n))
	must(t, s.CopyDtoH(hout.Bytes(), d2.Ptr()))
	must(t, s.Synchronize())
	if !bytes.Equal(hin.Bytes(), hout.Bytes()) {
		t.Fatal("async round trip through pinned memory changed the bytes")
	}
	if err := s.CopyHtoD(d1.Ptr(), make([]byte, 16)); !errors.Is(err, diag.InvalidArgument) {
		t.Errorf("async copy from Go memory = %v, want InvalidArgument", err)
	}
}

func TestOutOfMemory(t *testing.T) {
	c := gpu(t)
	_, err := c.Alloc(1 << 52) // 4 PiB
	if !errors.Is(err, diag.OutOfMemory) {
		t.Fatalf("absurd Alloc = %v, want diag.OutOfMemory", err)
	}
	var st *Status
	if !errors.As(err, &st) || st.Name != "CUDA_ERROR_OUT_OF_MEMORY" {
		t.Errorf("cause %#v, want CUDA_ERROR_OUT_OF_MEMORY", st)
	}
	t.Log(err)
}

func TestAllocFreeDoesNotLeak(t *testing.T) {
	c := gpu(t)
	must(t, c.Synchronize())
	before, _, err := c.MemGetInfo()
	must(t, err)
	for i := range 1000 {
		b, err := c.Alloc(1<<20 + i*4096)
		must(t, err)
		must(t, b.Free())
	}
	after, _, err := c.MemGetInfo()
	must(t, err)
	if before != after {
		t.Errorf("free memory %d before 1000 alloc/free cycles, %d after", before, after)
	}
}

const saxpySrc = `
extern "C" __global__ void saxpy(float a, const float *x, float *y, int n) {
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) y[i] = a * x[i] + y[i];
}
`

func loadSaxpy(t *testing.T, c *Context) (*Module, *Function) {
	t.Helper()
	cubin, err := c.CompileNVRTC(saxpySrc, "saxpy.cu", nil)
	must(t, err)
	mod, err := c.LoadModule(cubin)
	must(t, err)
	fn, err := mod.Function("saxpy")
	must(t, err)
	return mod, fn
}

func TestNVRTCSaxpy(t *testing.T) {
	c := gpu(t)
	ma, mi, err := NVRTCVersion()
	must(t, err)
	t.Logf("NVRTC %d.%d (%s)", ma, mi, libNVRTC.path)
	mod, fn := loadSaxpy(t, c)
	defer mod.Close()
	regs, err := fn.NumRegs()
	must(t, err)
	t.Logf("saxpy: %d registers", regs)

	r := rand.New(rand.NewPCG(5, 6))
	const n = 100003
	x, y := randFloats(r, n), randFloats(r, n)
	a := float32(1.7)
	dx, dy := upload(t, c, f32bytes(x)), upload(t, c, f32bytes(y))
	defer dx.Free()
	defer dy.Free()
	s, err := c.NewStream()
	must(t, err)
	defer s.Close()
	must(t, s.Launch(fn, Dim3{X: (n + 255) / 256}, Dim3{X: 256}, 0, a, dx, dy, n))
	must(t, s.Synchronize())
	got := bytesF32(download(t, dy))
	want := make([]float64, n)
	for i := range want {
		want[i] = float64(a)*float64(x[i]) + float64(y[i])
	}
	if err := tolerance.For(tensor.Float32).Compare(f64(got), want); err != nil {
		t.Fatal(err)
	}
	if err := s.Launch(fn, Dim3{X: 1}, Dim3{X: 1}, 0, "bad"); !errors.Is(err, diag.InvalidArgument) {
		t.Errorf("Launch with a string argument = %v", err)
	}
}

func TestNVRTCHalfHeadersAndErrors(t *testing.T) {
	c := gpu(t)
	src := `
#include <cuda_fp16.h>
#include <cuda_bf16.h>
extern "C" __global__ void h2f(const __half *x, const __nv_bfloat16 *y, float *out, int n) {
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) out[i] = __half2float(x[i]) + __bfloat162float(y[i]);
}
`
	cubin, _, err := compile(src, "half.cu", []string{"--gpu-architecture=" + c.Arch(), "-default-device", "-std=c++17"})
	if err != nil {
		t.Logf("built-in cuda_fp16.h/cuda_bf16.h NOT available, Compile will retry with %q: %v", cudaIncludeDir(), err)
		cubin, err = c.CompileNVRTC(src, "half.cu", nil)
		must(t, err)
	} else {
		t.Log("NVRTC has cuda_fp16.h and cuda_bf16.h built in")
	}
	mod, err := c.LoadModule(cubin)
	must(t, err)
	defer mod.Close()
	fn, err := mod.Function("h2f")
	must(t, err)
	const n = 1000
	r := rand.New(rand.NewPCG(7, 8))
	xs, ys := make([]byte, 2*n), make([]byte, 2*n)
	want := make([]float64, n)
	for i := range n {
		hx := float16.Fromfloat32(r.Float32()*4 - 2)
		by := math.Float32bits(r.Float32()*4-2) >> 16
		binary.LittleEndian.PutUint16(xs[2*i:], hx.Bits())
		binary.LittleEndian.PutUint16(ys[2*i:], uint16(by))
		want[i] = float64(hx.Float32()) + float64(math.Float32frombits(by<<16))
	}
	dx, dy, dout := upload(t, c, xs), upload(t, c, ys), poisoned(t, c, 4*n)
	defer dx.Free()
	defer dy.Free()
	defer dout.Free()
	s, err := c.NewStream()
	must(t, err)
	defer s.Close()
	must(t, s.Launch(fn, Dim3{X: 4}, Dim3{X: 256}, 0, dx, dy, dout, n))
	must(t, s.Synchronize())
	if err := tolerance.For(tensor.Float32).Compare(f64(bytesF32(download(t, dout))), want); err != nil {
		t.Fatal(err)
	}

	_, err = c.CompileNVRTC("__global__ void k() { undeclared_thing(); }", "bad.cu", nil)
	if !errors.Is(err, diag.InvalidArgument) || !strings.Contains(err.Error(), "undeclared_thing") {
		t.Errorf("bad source: %v, want InvalidArgument with the compile log", err)
	}
	if _, err := mod.Function("nope"); err == nil {
		t.Error("Function(nope) succeeded")
	}
}

func TestEventsAndGraph(t *testing.T) {
	c := gpu(t)
	mod, fn := loadSaxpy(t, c)
	defer mod.Close()
	r := rand.New(rand.NewPCG(9, 10))
	const n = 1 << 20
	x, y := randFloats(r, n), randFloats(r, n)
	dx, dy := upload(t, c, f32bytes(x)), upload(t, c, f32bytes(y))
	defer dx.Free()
	defer dy.Free()
	s, err := c.NewStream()
	must(t, err)
	defer s.Close()
	start, err := c.NewEvent()
	must(t, err)
	defer start.Close()
	end, err := c.NewEvent()
	must(t, err)
	defer end.Close()

	// Events: time 10 launches of a = 0 (y unchanged).
	must(t, start.Record(s))
	for range 10 {
		must(t, s.Launch(fn, Dim3{X: n / 256}, Dim3{X: 256}, 0, float32(0), dx, dy, n))
	}
	must(t, end.Record(s))
	must(t, end.Synchronize())
	el, err := Elapsed(start, end)
	must(t, err)
	if el <= 0 {
		t.Errorf("elapsed %v", el)
	}
	t.Logf("10 saxpy launches on %d floats: %v", n, el)

	// Graph: capture two launches, replay three times: y += 6a x.
	a := float32(0.25)
	exec, err := s.Capture(func() error {
		if err := s.Launch(fn, Dim3{X: n / 256}, Dim3{X: 256}, 0, a, dx, dy, n); err != nil {
			return err
		}
		return s.Launch(fn, Dim3{X: n / 256}, Dim3{X: 256}, 0, a, dx, dy, n)
	})
	must(t, err)
	defer exec.Close()
	if got := bytesF32(download(t, dy)); got[0] != y[0] {
		t.Fatal("capture ran the kernels instead of recording them")
	}
	for range 3 {
		must(t, exec.Launch(s))
	}
	must(t, s.Synchronize())
	want := make([]float64, n)
	for i := range want {
		v := y[i]
		for range 6 {
			v = a*x[i] + v
		}
		want[i] = float64(v)
	}
	if err := tolerance.For(tensor.Float32).Scaled(6).Compare(f64(bytesF32(download(t, dy))), want); err != nil {
		t.Fatal(err)
	}
}
