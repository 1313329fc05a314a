package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// CUDAKernel is a plugin's CUDA implementation: CUDA C++ source that the
// CUDA target compiles with NVRTC at build time (for the build GPU's
// architecture; the cubin goes into the engine), and a launch function
// that picks the entry point and launch geometry from the run-time shapes.
//
// The kernel ABI, which the CUDA target implements:
//
//   - Entry points are `extern "C" __global__` functions (no C++ name
//     mangling, so the target finds them by name).
//   - Parameters are, in order: one device pointer per input (layer input
//     order), one per output, the workspace pointer if Workspace is set
//     (null when it returns 0), then LaunchConfig.Args.
//   - Tensors are dense, row-major, in the layer's types (float is
//     float32, Float16 is IEEE binary16 bits, BFloat16 its 16 bits, Int64
//     is long long, Bool one byte); shapes are not passed implicitly, so a
//     kernel that needs sizes takes them as scalar Args.
//   - The source is compiled alone: NVRTC supplies no CUDA headers unless
//     the target adds them, so kernels should not #include (convert halves
//     with inline PTX, as examples/plugin does).
//   - Launches go on the engine's stream, and the kernel must not keep
//     pointers or state between launches.
type CUDAKernel struct {
	// Source is the CUDA C++ translation unit.
	Source string
	// Entry is the default entry point; LaunchConfig.Entry overrides it
	// per launch (per data type variants).
	Entry string
	// Options are extra NVRTC options (e.g. "-use_fast_math"); the target
	// adds --gpu-architecture and its own defaults.
	Options []string
	// Launch gives the entry, grid, block, dynamic shared memory and scalar
	// arguments for concrete shapes. A grid with a zero dimension means
	// there is nothing to compute (an empty tensor): no launch.
	Launch func(s LaunchShapes) (LaunchConfig, error)
	// Workspace, if set, gives the bytes of scratch device memory a launch
	// needs for these shapes; the target allocates it (256-byte aligned)
	// and passes it after the output pointers.
	Workspace func(s LaunchShapes) int64
}

// LaunchShapes is what a launch is configured from: concrete dims (no -1)
// and types of every input and output, and the plugin's attributes.
type LaunchShapes struct {
	In, Out           []dsl.Dims
	InTypes, OutTypes []dsl.DataType
	Attrs             Values
}

// LaunchConfig is one kernel launch.
type LaunchConfig struct {
	// Entry is the function to launch; empty means CUDAKernel.Entry.
	Entry string
	// Grid and Block are the launch geometry (cuLaunchKernel's gridDim and
	// blockDim).
	Grid, Block [3]uint32
	// SharedMem is the dynamic shared memory in bytes.
	SharedMem int
	// Args are the scalar arguments after the pointers, each an int32,
	// uint32, int64, uint64, float32 or float64 (C int, unsigned int, long
	// long, unsigned long long, float, double). Go's int is refused: its
	// size in C is not fixed.
	Args []any
}

// CUDAPlugin is a plugin with a CUDA implementation; the CUDA target checks
// for it with a type assertion on dsl.PluginLayer.Plugin() (an *Instance
// from Define implements it; hand-written plugins may too).
type CUDAPlugin interface {
	dsl.Plugin
	// CUDAKernel returns the kernel, or nil when the plugin has none (the
	// target then falls back to ExecuteCPU).
	CUDAKernel() *CUDAKernel
	// Values are the attributes given to Launch and Workspace.
	Values() Values
}

// maxBlockThreads is the CUDA limit on threads per block.
const maxBlockThreads = 1024

// Configure calls Launch and Workspace for s and checks the result against
// the ABI and CUDA's limits, so the target reports a plugin's mistake
// naming the plugin instead of a launch failure. It returns the launch
// (Entry filled in) and the workspace size.
func (k *CUDAKernel) Configure(p dsl.Plugin, s LaunchShapes) (LaunchConfig, int64, error) {
	id := dsl.PluginID(p)
	if k.Launch == nil {
		return LaunchConfig{}, 0, diag.Errorf(diag.InvalidNode, "%s: the CUDA kernel has no Launch function", id)
	}
	cfg, err := k.Launch(s)
	if err != nil {
		code := diag.CodeOf(err)
		if code == 0 {
			code = diag.UnsupportedNode
		}
		return LaunchConfig{}, 0, diag.Wrap(code, err, "%s: the CUDA kernel cannot launch for inputs %v", id, s.In)
	}
	if cfg.Entry == "" {
		cfg.Entry = k.Entry
	}
	bad := func(format string, args ...any) (LaunchConfig, int64, error) {
		return LaunchConfig{}, 0, diag.Errorf(diag.InvalidNode, "%s: Launch for inputs %v: %s", id, s.In, fmt.Sprintf(format, args...))
	}
	threads := uint64(1)
	for i, b := range cfg.Block {
		if b == 0 {
			return bad("block dimension %d is 0", i)
		}
		threads *= uint64(b)
	}
	if threads > maxBlockThreads {
		return bad("block %v has %d threads; CUDA allows %d", cfg.Block, threads, maxBlockThreads)
	}
	if cfg.Grid[0] > 1<<31-1 || cfg.Grid[1] > 65535 || cfg.Grid[2] > 65535 {
		return bad("grid %v is above CUDA's limits (2^31-1, 65535, 65535)", cfg.Grid)
	}
	if cfg.SharedMem < 0 {
		return bad("shared memory %d is negative", cfg.SharedMem)
	}
	for i, a := range cfg.Args {
		switch a.(type) {
		case int32, uint32, int64, uint64, float32, float64:
		default:
			return bad("scalar argument %d is a %T; use int32, uint32, int64, uint64, float32 or float64", i, a)
		}
	}
	var ws int64
	if k.Workspace != nil {
		if ws = k.Workspace(s); ws < 0 {
			return bad("workspace of %d bytes", ws)
		}
	}
	return cfg, ws, nil
}

// Fingerprint identifies the compiled code: a SHA-256 of the source, entry
// and options. An engine stores it with the cubin; the target compares it
// with the registered plugin's at load and rejects (or recompiles) a cubin
// built from different source.
func (k *CUDAKernel) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s%d:%s", len(k.Source), k.Source, len(k.Entry), k.Entry)
	for _, o := range k.Options {
		fmt.Fprintf(h, "%d:%s", len(o), o)
	}
	return hex.EncodeToString(h.Sum(nil))
}
