package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/internal/target"
	"github.com/trtc/trtc/tensor"
)

// Context runs an engine (TensorRT's IExecutionContext). A context runs one
// inference at a time; for concurrent inference make one context per
// goroutine: contexts of an engine share its weights.
type Context struct {
	e       *Engine
	tc      target.Context
	mu      sync.Mutex
	profile int
}

// NewContext makes an execution context using optimization profile 0.
func (e *Engine) NewContext() (*Context, error) {
	tc, err := e.exe.NewContext()
	if err != nil {
		return nil, err
	}
	return &Context{e: e, tc: tc}, nil
}

// SetOptimizationProfile selects the profile whose shape ranges Execute
// checks inputs against (TensorRT's setOptimizationProfileAsync).
func (c *Context) SetOptimizationProfile(i int) error {
	n := len(c.e.file.Manifest().GetProfiles())
	if i < 0 || (i >= n && !(i == 0 && n == 0)) {
		return diag.Errorf(diag.InvalidArgument, "optimization profile %d does not exist: the engine has %d (0..%d)", i, n, n-1)
	}
	c.mu.Lock()
	c.profile = i
	c.mu.Unlock()
	return nil
}

// OptimizationProfile is the selected profile's index.
func (c *Context) OptimizationProfile() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.profile
}

// Execute runs the engine on host tensors given by input name and returns
// the outputs by name. Every input must be given, with the engine's type,
// its static dims, and dynamic dims within the selected profile.
func (c *Context) Execute(ctx context.Context, inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkInputs(inputs); err != nil {
		return nil, err
	}
	return c.tc.Execute(ctx, inputs)
}

// DeviceTensor is an input in GPU memory: an address in the CUDA primary
// context of GPU 0 (cudaMalloc, cuMemAlloc, a PyTorch tensor's
// data_ptr()), its type and its shape, laid out contiguously.
type DeviceTensor = target.DeviceTensor

// DeviceBuffer is GPU memory for one output: an address and its size.
type DeviceBuffer = target.DeviceBuffer

// ExecuteDevice runs the engine on inputs already in GPU memory and writes
// the outputs into the given device buffers, with no host copies (TensorRT's
// enqueueV3 on bound device addresses, trtexec's --noDataTransfers). Inputs
// are read in place; each output is written into outputs[name], which must
// hold its bytes. It returns the outputs' shapes when they are written.
// Engines of targets that do not run on the GPU return InvalidArgument.
func (c *Context) ExecuteDevice(ctx context.Context, inputs map[string]DeviceTensor, outputs map[string]DeviceBuffer) (map[string][]int64, error) {
	dc, ok := c.tc.(target.DeviceContext)
	if !ok {
		return nil, diag.Errorf(diag.InvalidArgument, "engines of target %s do not run on device memory: use Execute", c.e.Target())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sigs := map[string]inputSig{}
	for name, v := range inputs {
		sigs[name] = inputSig{dtype: v.Type, shape: v.Shape}
	}
	if err := c.checkSigs(sigs); err != nil {
		return nil, err
	}
	var errs diag.List
	for _, out := range c.e.file.Manifest().GetOutputs() {
		if _, ok := outputs[out.GetName()]; !ok {
			errs = append(errs, diag.Errorf(diag.InvalidArgument, "no device buffer for output %q", out.GetName()))
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return dc.ExecuteDevice(ctx, inputs, outputs)
}

// SetCUDAGraphs turns CUDA graphs on or off for the context (trtexec's
// --useCudaGraph; on by default on GPU targets for engines that can be
// recorded): the context records an inference's kernel launches as
// one graph, per input shape (and per set of device addresses for
// ExecuteDevice), and replays it, one launch instead of hundreds. The
// first replay is checked against the launches run one by one; a capture
// that fails or differs turns graphs off for the context, with a line on
// stderr. Engines whose steps include host work or plugin launches cannot
// be recorded, and targets without graphs have none: both are
// InvalidArgument.
func (c *Context) SetCUDAGraphs(on bool) error {
	gc, ok := c.tc.(target.GraphContext)
	if !ok {
		return diag.Errorf(diag.InvalidArgument, "engines of target %s have no CUDA graphs", c.e.Target())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return gc.SetCUDAGraphs(on)
}

// CUDAGraphs reports whether the context records and replays CUDA graphs
// (false for targets without them, and after a failed check turned them
// off).
func (c *Context) CUDAGraphs() bool {
	gc, ok := c.tc.(target.GraphContext)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return gc.CUDAGraphs()
}

// Run executes one inference on a context of its own, for one-off use;
// code that runs an engine repeatedly makes one Context per goroutine and
// reuses it.
func (e *Engine) Run(ctx context.Context, inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	c, err := e.NewContext()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Execute(ctx, inputs)
}

// Close releases the context's memory.
func (c *Context) Close() error { return c.tc.Close() }

// checkInputs reports every problem with inputs at once: missing, unknown,
// wrong type, wrong rank or static dims, and dims outside the profile.
func (c *Context) checkInputs(inputs map[string]*tensor.Tensor) error {
	sigs := map[string]inputSig{}
	for name, v := range inputs {
		if v != nil {
			sigs[name] = inputSig{dtype: v.DType(), shape: v.Shape()}
		} else {
			sigs[name] = inputSig{missing: true}
		}
	}
	return c.checkSigs(sigs)
}

// inputSig is what checkSigs knows of an input: its type and shape.
type inputSig struct {
	dtype   tensor.DataType
	shape   []int64
	missing bool
}

func (c *Context) checkSigs(inputs map[string]inputSig) error {
	m := c.e.file.Manifest()
	var ranges map[string]*target.ShapeRange
	if c.profile < len(c.e.ranges) {
		ranges = c.e.ranges[c.profile]
	}
	var errs diag.List
	known := map[string]bool{}
	for _, in := range m.GetInputs() {
		name := in.GetName()
		known[name] = true
		v, given := inputs[name]
		want := tensor.DataType(in.GetDtype())
		switch {
		case !given || v.missing:
			errs = append(errs, diag.Errorf(diag.InvalidArgument, "input %q (%v %s) is missing", name, want, FormatDims(in.GetDims())))
			continue
		case v.dtype != want:
			errs = append(errs, diag.Errorf(diag.TypeMismatch, "input %q must be %v, got %v", name, want, v.dtype))
			continue
		}
		if err := CheckShape(name, in.GetDims(), ranges[name], c.profile, v.shape); err != nil {
			errs = append(errs, err)
		}
	}
	for name := range inputs {
		if !known[name] {
			var names []string
			for _, in := range m.GetInputs() {
				names = append(names, in.GetName())
			}
			errs = append(errs, diag.Errorf(diag.InvalidArgument, "%q is not an input of the engine (its inputs: %s)", name, strings.Join(names, ", ")))
		}
	}
	return errs.Err()
}

// CheckShape checks a concrete shape against an input's declared dims and
// its range in profile idx (r may be nil for an input with static dims).
func CheckShape(name string, dims []int64, r *target.ShapeRange, idx int, shape []int64) *diag.Error {
	if len(shape) != len(dims) {
		return diag.Errorf(diag.ShapeMismatch, "input %q has rank %d (shape %s), the engine expects rank %d (%s)", name, len(shape), FormatDims(shape), len(dims), FormatDims(dims))
	}
	for i, d := range dims {
		if d >= 0 && shape[i] != d {
			return diag.Errorf(diag.ShapeMismatch, "input %q: shape %s does not match the engine's %s at dimension %d", name, FormatDims(shape), FormatDims(dims), i)
		}
	}
	if r == nil {
		for _, d := range dims {
			if d < 0 {
				return diag.Errorf(diag.ShapeMismatch, "input %q has dynamic dims %s but optimization profile %d has no range for it", name, FormatDims(dims), idx)
			}
		}
		return nil
	}
	for i := range shape {
		if shape[i] < r.Min[i] || shape[i] > r.Max[i] {
			return diag.Errorf(diag.ShapeMismatch, "input %q: shape %s is outside optimization profile %d (min %s, max %s) at dimension %d; build the engine with a profile that covers it (--min-shapes/--max-shapes)",
				name, FormatDims(shape), idx, FormatDims(r.Min), FormatDims(r.Max), i)
		}
	}
	return nil
}

// FormatDims writes dims as trtexec does: 1x3x224x224, with -1 for dynamic
// dims and "scalar" for rank 0.
func FormatDims(d []int64) string {
	if len(d) == 0 {
		return "scalar"
	}
	s := make([]string, len(d))
	for i, v := range d {
		s[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(s, "x")
}

// ParseDims reads 1x3x224x224 (as written by FormatDims; "scalar" or empty
// for rank 0).
func ParseDims(s string) ([]int64, error) {
	if s == "" || s == "scalar" {
		return []int64{}, nil
	}
	parts := strings.Split(s, "x")
	out := make([]int64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < -1 {
			return nil, fmt.Errorf("bad dims %q: %q is not a dimension (want a count like 1x3x224x224)", s, p)
		}
		out[i] = v
	}
	return out, nil
}
