// Package target is the one interface every target implements (cpu, cuda,
// tensorrt) and the table they register into at init. The compiler lowers
// an ir.Graph through it into the sections of an engine file; the engine
// package loads those sections back through it into something that
// executes. A build tag alone decides whether a target is linked: the
// TensorRT target's package registers itself only when built with
// -tags tensorrt.
package target

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/timingcache"
	"github.com/trtc/trtc/tensor"
)

// Target lowers graphs and loads engines for one kind of device.
type Target interface {
	// Name is the target's name in engine files and on the command line:
	// "cpu", "cuda", "tensorrt".
	Name() string
	// Probe describes the device the target would use on this machine,
	// or says why it cannot run here (a diag.NoDevice error naming what
	// is missing and where it looked).
	Probe() (Device, error)
	// Lower turns a compiled graph into engine sections, filling b.
	Lower(g *ir.Graph, b *Build) error
	// Load prepares an engine's sections for execution.
	Load(s Sections) (Executable, error)
}

// Device is where a target runs.
type Device struct {
	Arch      string            // "sm_90", "amd64"; recorded in the engine and checked at load
	Name      string            // "NVIDIA H100 80GB HBM3", "2 CPU cores (AVX-512)"
	Libraries map[string]string // library name -> version the engine depends on
}

// Profile is one optimization profile: per input with dynamic dims, the
// smallest, tuned-for and largest shapes.
type Profile struct {
	Inputs []ShapeRange
}

// ShapeRange is one input's bounds within a profile.
type ShapeRange struct {
	Input         string
	Min, Opt, Max []int64
}

// Section is a raw part of an engine file.
type Section struct {
	Name, Kind string
	Data       []byte
}

// Build is what the compiler hands a target to lower, and what the target
// hands back.
type Build struct {
	// Given by the compiler.
	Options  ir.Options
	Profiles []Profile
	Device   Device
	// WorkspaceLimit bounds scratch memory in bytes (0: no limit).
	WorkspaceLimit int64
	// TimingCache holds measured tactic timings: a target that times
	// candidates looks each layer signature up first and records what it
	// measures. Never nil.
	TimingCache *timingcache.Cache

	// Filled by the target.
	Sections []Section
	// Metadata is recorded in the engine's manifest.
	Metadata map[string]string
	// Tactics names the implementation chosen per layer name, when the
	// target chose among several.
	Tactics map[string]string
	// MemorySize is the memory the engine needs for activations and
	// scratch at the largest shapes of its profiles.
	MemorySize int64
	// Warnings are shown in the build summary.
	Warnings []string
}

// AddSection appends a section to the build's output.
func (b *Build) AddSection(name, kind string, data []byte) {
	b.Sections = append(b.Sections, Section{Name: name, Kind: kind, Data: data})
}

// Sections gives a target the parts of an engine it wrote.
type Sections interface {
	// Section returns a section's bytes, checked against its SHA-256.
	Section(name string) ([]byte, error)
	// Metadata is the manifest's metadata.
	Metadata() map[string]string
	// Name is the engine file's name, for messages.
	Name() string
}

// Executable is a loaded engine.
type Executable interface {
	NewContext() (Context, error)
	Close() error
}

// Context runs an engine. One context runs one inference at a time; make
// one per goroutine (contexts of one engine share its weights).
type Context interface {
	// Execute runs the engine on host tensors, by input name, and returns
	// the outputs by name. Inputs were checked against the engine's
	// inputs and the active profile by the caller.
	Execute(ctx context.Context, inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error)
	Close() error
}

// DeviceTensor is an input in GPU memory the caller owns: an address in
// the CUDA primary context of GPU 0 (cudaMalloc, a PyTorch tensor's
// data_ptr), its type and shape, laid out contiguously.
type DeviceTensor struct {
	Ptr   uintptr
	Type  tensor.DataType
	Shape []int64
}

// DeviceBuffer is GPU memory the caller owns for one output.
type DeviceBuffer struct {
	Ptr   uintptr
	Bytes int64
}

// DeviceContext is a Context that also runs on device memory: inputs are
// read where they are (no copy), outputs land in the caller's buffers.
type DeviceContext interface {
	Context
	// ExecuteDevice runs the engine on device inputs, by name, writes each
	// output into outputs[name] and returns the outputs' shapes. It returns
	// when the outputs are written. Inputs were checked by the caller.
	ExecuteDevice(ctx context.Context, inputs map[string]DeviceTensor, outputs map[string]DeviceBuffer) (map[string][]int64, error)
}

// GraphContext is a Context that can record its work as CUDA graphs and
// replay them.
type GraphContext interface {
	Context
	SetCUDAGraphs(on bool) error
	CUDAGraphs() bool
}

var (
	mu      sync.RWMutex
	targets = map[string]Target{}
)

// Register adds a target; registering a name twice is a programming error
// found at init.
func Register(t Target) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := targets[t.Name()]; dup {
		panic(fmt.Sprintf("target: %q registered twice", t.Name()))
	}
	targets[t.Name()] = t
}

// Lookup finds a registered target.
func Lookup(name string) (Target, bool) {
	mu.RLock()
	defer mu.RUnlock()
	t, ok := targets[name]
	return t, ok
}

// Names lists the registered targets, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(targets))
	for n := range targets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Known is every target trtc has or will have, in the order "auto" tries
// them; a known target that is not registered was left out of this build.
var Known = []string{"tensorrt", "cuda", "cpu"}
