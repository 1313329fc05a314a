// Package swiglu is a trtc plugin for SwiGLU, the gated activation of
// LLaMA-style feed-forward blocks, which ONNX has no operator for:
//
//	g, u = split(x, 2, axis=-1)   (gate first; swapped when gate_first is false)
//	y    = g * sigmoid(beta*g) * u
//
// Importing the package registers the plugin (name "SwiGLU", version "1",
// namespace "trtc.examples"), so ONNX nodes of that op_type in the
// trtc.examples domain import as a plugin layer, dsl.Network.AddPlugin
// finds it by name, and engines that use it load in the importing binary.
//
// The whole plugin is the Define call below: attributes, rules, the Go
// implementation (the reference, and the CPU target) and the CUDA kernels
// in swiglu.cu (fp32 and fp16).
package swiglu

import (
	_ "embed"
	"fmt"
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/plugins"
	"github.com/trtc/trtc/tensor"
)

// Name, Version and Namespace identify the plugin.
const (
	Name      = "SwiGLU"
	Version   = "1"
	Namespace = "trtc.examples"
)

//go:embed swiglu.cu
var kernelSource string

// Creator is the registered creator.
var Creator = plugins.Define(plugins.Spec{
	Name: Name, Version: Version, Namespace: Namespace,
	Doc: "swish(gate) * up, gate and up the two halves of the last dim",
	Attrs: []plugins.Attr{
		{Name: "beta", Type: plugins.Float, Default: 1.0, Doc: "swish slope: sigmoid(beta*g); 1 is SiLU"},
		{Name: "gate_first", Type: plugins.Bool, Default: true, Doc: "the gate is the first half of the last dim"},
	},
	SupportedTypes: [][]dsl.DataType{{dsl.Float32, dsl.Float16}},
	OutputDims:     outputDims,
	CPU:            runCPU,
	CUDA: &plugins.CUDAKernel{
		Source: kernelSource,
		Entry:  "swiglu_f32",
		Launch: launch,
	},
})

// outputDims halves the last dim; a dynamic last dim stays dynamic, and
// every other dim is copied, dynamic or not.
func outputDims(in []dsl.Dims, _ plugins.Values) ([]dsl.Dims, error) {
	x := in[0]
	if len(x) == 0 {
		return nil, diag.Errorf(diag.ShapeMismatch, "the input is a scalar; SwiGLU splits the last dim in two")
	}
	last := x[len(x)-1]
	if last >= 0 && last%2 != 0 {
		return nil, diag.Errorf(diag.ShapeMismatch, "the last dim of %v is %d, odd; SwiGLU splits it in two halves", x, last)
	}
	y := x.Clone()
	if last > 0 {
		y[len(y)-1] = last / 2
	}
	return []dsl.Dims{y}, nil
}

// Value is SwiGLU of one gate and one up value, in float32 like the
// kernels: g / (1 + exp(-beta*g)) * u.
func Value(g, u, beta float32) float32 {
	return g / (1 + float32(math.Exp(float64(-beta*g)))) * u
}

func runCPU(in []*tensor.Tensor, attrs plugins.Values) ([]*tensor.Tensor, error) {
	x := in[0]
	shape := x.Shape()
	half := shape[len(shape)-1] / 2
	beta, gateFirst := float32(attrs.Float("beta")), attrs.Bool("gate_first")
	xs := x.AsFloat32() // aliases a float32 input: read only
	y := make([]float32, len(xs)/2)
	for r := int64(0); half > 0 && r < int64(len(y))/half; r++ {
		row := xs[2*r*half : 2*(r+1)*half]
		for c := int64(0); c < half; c++ {
			g, u := row[c], row[half+c]
			if !gateFirst {
				g, u = u, g
			}
			y[r*half+c] = Value(g, u, beta)
		}
	}
	shape[len(shape)-1] = half
	out, err := tensor.FromFloat32s(x.DType(), shape, y)
	if err != nil {
		return nil, err
	}
	return []*tensor.Tensor{out}, nil
}

// blockSize and maxBlocks shape the launch: 256 threads, and a grid of at
// most 65536 blocks that the kernels' grid-stride loop walks over larger
// tensors.
const (
	blockSize = 256
	maxBlocks = 1 << 16
)

func launch(s plugins.LaunchShapes) (plugins.LaunchConfig, error) {
	x := s.In[0]
	half := x[len(x)-1] / 2
	rows := int64(1)
	for _, d := range x[:len(x)-1] {
		rows *= d
	}
	var entry string
	switch s.InTypes[0] {
	case dsl.Float32:
		entry = "swiglu_f32"
	case dsl.Float16:
		entry = "swiglu_f16"
	default:
		return plugins.LaunchConfig{}, fmt.Errorf("no kernel for %v", s.InTypes[0])
	}
	n := rows * half
	blocks := min((n+blockSize-1)/blockSize, maxBlocks)
	gateFirst := int32(0)
	if s.Attrs.Bool("gate_first") {
		gateFirst = 1
	}
	return plugins.LaunchConfig{
		Entry: entry,
		Grid:  [3]uint32{uint32(blocks), 1, 1}, // 0 blocks for an empty tensor: no launch
		Block: [3]uint32{blockSize, 1, 1},
		Args:  []any{rows, half, float32(s.Attrs.Float("beta")), gateFirst},
	}, nil
}
