package onnx

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// Model-building helpers for the control-flow, quantization and recurrent
// importer tests (prefixed ctl: other groups add test helpers too).

func ctlNode(op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Input: in, Output: out, Attribute: attrs}
}

func ctlAttrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func ctlAttrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func ctlAttrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func ctlAttrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func ctlAttrStrings(name string, v ...string) *onnxpb.AttributeProto {
	a := &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRINGS.Enum()}
	for _, s := range v {
		a.Strings = append(a.Strings, []byte(s))
	}
	return a
}

func ctlAttrGraph(name string, g *onnxpb.GraphProto) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: g}
}

// ctlModel serializes a graph with the default domain at opset.
func ctlModel(t *testing.T, g *onnxpb.GraphProto, opset int64) []byte {
	t.Helper()
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{
			{Domain: proto.String(""), Version: proto.Int64(opset)}}}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ctlRun imports and runs a model on the CPU engine.
func ctlRun(t *testing.T, g *onnxpb.GraphProto, opset int64, in map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	t.Helper()
	net, err := ImportBytes(ctlModel(t, g, opset), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cpu.Run(net, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ctlF32T(t *testing.T, shape []int64, v ...float32) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromFloat32(shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// ctlInit is an initializer from a tensor.
func ctlInit(x *tensor.Tensor, name string) *onnxpb.TensorProto { return TensorToProto(x, name) }

// ctlCheck compares shape and values within the tolerance of dt's
// results (internal/tolerance), scaled for dot products of length k.
func ctlCheck(t *testing.T, what string, got *tensor.Tensor, shape []int64, want []float64, dt tensor.DataType, k int) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: missing output", what)
	}
	if !slices.Equal(got.Shape(), shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), shape)
	}
	if err := tolerance.For(dt).Scaled(k).Compare(got.Float64s(), want); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func ctlAttrFloats(name string, v ...float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: v}
}
