package onnx

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// TestModelLocalFunctionIsExpanded calls a model-local function twice:
// ScaledLeaky(x) = LeakyRelu(x, alpha=@alpha) + x, with alpha an attribute
// reference that each call sets differently (one call uses the default).
func TestModelLocalFunctionIsExpanded(t *testing.T) {
	alphaRef := &onnxpb.AttributeProto{Name: proto.String("alpha"), Type: onnxpb.AttributeProto_FLOAT.Enum(), RefAttrName: proto.String("alpha")}
	fn := &onnxpb.FunctionProto{
		Name:   proto.String("ScaledLeaky"),
		Domain: proto.String("trtc.fn"),
		Input:  []string{"a"},
		Output: []string{"b"},
		Node: []*onnxpb.NodeProto{
			{OpType: proto.String("LeakyRelu"), Input: []string{"a"}, Output: []string{"l"}, Attribute: []*onnxpb.AttributeProto{alphaRef}},
			{OpType: proto.String("Add"), Input: []string{"l", "a"}, Output: []string{"b"}},
		},
		AttributeProto: []*onnxpb.AttributeProto{floatAttr("alpha", 0.5)}, // the default
		OpsetImport:    []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
	}
	call := func(name, in, out string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{OpType: proto.String("ScaledLeaky"), Domain: proto.String("trtc.fn"), Name: proto.String(name),
			Input: []string{in}, Output: []string{out}, Attribute: attrs}
	}
	g := &onnxpb.GraphProto{
		Node:   []*onnxpb.NodeProto{call("c1", "x", "h", floatAttr("alpha", 0.1)), call("c2", "h", "y")},
		Input:  []*onnxpb.ValueInfoProto{vinfo("x", onnxpb.TensorProto_FLOAT, 4)},
		Output: []*onnxpb.ValueInfoProto{vinfo("y", onnxpb.TensorProto_FLOAT, 4)},
	}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g, Functions: []*onnxpb.FunctionProto{fn},
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}, {Domain: proto.String("trtc.fn"), Version: proto.Int64(1)}}}
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	net, err := ImportBytes(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := mustF32([]int64{4}, []float32{-2, -1, 1, 2})
	out, err := cpu.Run(net, map[string]*tensor.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	// c1 (alpha 0.1): -2 -> -0.2-2 = -2.2; -1 -> -1.1; 1 -> 2; 2 -> 4.
	// c2 (alpha 0.5): -2.2 -> -1.1-2.2 = -3.3; -1.1 -> -1.65; 2 -> 4; 4 -> 8.
	want := []float32{-3.3, -1.65, 4, 8}
	for i, g := range out["y"].Float32s() {
		if d := g - want[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("y = %v, want %v", out["y"].Float32s(), want)
		}
	}
}
