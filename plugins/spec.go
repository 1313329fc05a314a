package plugins

import (
	"fmt"
	"runtime"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Spec declares a plugin in one value: identity, typed attributes, type and
// shape rules, the Go implementation every target can fall back to, and an
// optional CUDA kernel. Define turns it into a registered Creator, so a
// plugin is one Go file with one Define call in an init function or a
// package-level var.
//
// The rules receive the layer's inputs in order; attrs holds every
// declared attribute (defaults filled in), already converted to the
// attribute's Go type, so the functions never see a missing or mistyped
// value.
type Spec struct {
	// Name, Version and Namespace identify the plugin (TensorRT's plugin
	// creator keys). The ONNX importer matches Name against a node's
	// op_type and Namespace against its domain (or its plugin_namespace
	// attribute). Version defaults to "1".
	Name, Version, Namespace string
	// Doc is one sentence saying what the plugin computes (shown by
	// inspection tools and docs).
	Doc string

	// Attrs are the plugin's parameters. Create rejects attributes not
	// listed here, values that do not convert to the declared type, and
	// missing attributes that have no default.
	Attrs []Attr
	// Validate, if set, checks attribute values together (ranges,
	// combinations) after conversion; its error is reported naming the
	// plugin.
	Validate func(attrs Values) error

	// NbInputs is the number of inputs the plugin takes. Zero means
	// len(SupportedTypes) when that is set, and any number otherwise.
	NbInputs int
	// NbOutputs is the number of outputs (default 1).
	NbOutputs int
	// SupportedTypes lists, per input, the data types the plugin accepts
	// (nil: any type for every input; an empty entry: any type for that
	// input). Inputs are dense row-major tensors (TensorRT's kLINEAR
	// format); no other layout is offered to a plugin.
	SupportedTypes [][]dsl.DataType
	// OutputTypes gives each output's type from the input types. Default:
	// every output has input 0's type.
	OutputTypes func(in []dsl.DataType, attrs Values) ([]dsl.DataType, error)
	// OutputDims gives each output's dims from the input dims. At build
	// time a dim may be -1 (dynamic); an output dim that depends on one
	// must be -1, while dims that do not stay known (symbolic shapes: the
	// rule is evaluated again with concrete dims at run time). Return a
	// diag.ShapeMismatch error (diag.Errorf) for shapes the plugin does
	// not accept. Default: every output has input 0's dims.
	OutputDims func(in []dsl.Dims, attrs Values) ([]dsl.Dims, error)

	// CPU computes the outputs from concrete inputs (required: it is the
	// reference every other implementation is tested against, the CPU
	// target, and the CUDA target's fallback). It must return NbOutputs
	// tensors of the types and dims the rules give, must not modify its
	// inputs, and may be called concurrently.
	CPU func(in []*tensor.Tensor, attrs Values) ([]*tensor.Tensor, error)
	// CUDA is an optional CUDA C implementation, compiled with NVRTC by
	// the CUDA target at build time. Without one, the CUDA target runs CPU
	// with copies in and out and the build summary warns about it.
	CUDA *CUDAKernel
}

// Attr declares one attribute (TensorRT's PluginField).
type Attr struct {
	Name string
	Type AttrType
	// Default is used when the attribute is absent; nil makes the
	// attribute required. It is converted to Type by Define, so an
	// untyped constant works (Default: 1 for a Float attribute).
	Default any
	// Doc says what the attribute means.
	Doc string
}

// AttrType is an attribute's declared type. Each has one Go type in Values
// and accepts a few others on the way in (ONNX gives int64, float32,
// string, []int64, []float32, []string and *tensor.Tensor values; Go code
// gives int and float64):
//
//	type     in Values        also accepted
//	Int      int64            int, int8..int32, uint8..uint64 within range
//	Float    float64          float32, every integer type
//	Bool     bool             an integer 0 or 1 (ONNX has no bool attribute)
//	String   string           []byte
//	Ints     []int64          []int, []int32
//	Floats   []float64        []float32, []int64, []int, []int32
//	Strings  []string
//	Tensor   *tensor.Tensor   (non-nil)
//
// A float is never accepted for an Int attribute: truncating silently
// would hide a mistake.
type AttrType int

const (
	Int AttrType = iota + 1
	Float
	Bool
	String
	Ints
	Floats
	Strings
	Tensor
)

var attrTypeNames = map[AttrType]string{
	Int: "int", Float: "float", Bool: "bool", String: "string",
	Ints: "ints", Floats: "floats", Strings: "strings", Tensor: "tensor",
}

func (t AttrType) String() string {
	if s, ok := attrTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("AttrType(%d)", int(t))
}

// Define checks a Spec and registers a Creator for it; it returns the
// Creator. A Spec that can never work (no name, no CPU implementation, a
// default of the wrong type, two attributes with one name, a CUDA kernel
// without source, entry or launch function) panics, like a duplicate
// registration: both are programming errors found at init.
func Define(s Spec) Creator {
	_, file, line, _ := runtime.Caller(1)
	c, err := newDefined(s)
	if err != nil {
		panic(fmt.Sprintf("plugins.Define at %s:%d: %v", file, line, err))
	}
	register(c, fmt.Sprintf("%s:%d", file, line))
	return c
}
