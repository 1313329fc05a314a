package onnx

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// Small models written by hand, for the framework's own behaviour.

func vinfo(name string, elem onnxpb.TensorProto_DataType, dims ...int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		} else {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
		Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: shape}}}}
}

func node(op, name string, in, out []string) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String(name), Input: in, Output: out}
}

func model(g *onnxpb.GraphProto, opset int64) []byte {
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}}
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func addModel() []byte {
	w := TensorToProto(mustF32([]int64{3}, []float32{1, 2, 3}), "w")
	return model(&onnxpb.GraphProto{
		Name:        proto.String("add"),
		Node:        []*onnxpb.NodeProto{node("Add", "add0", []string{"x", "w"}, []string{"y"})},
		Initializer: []*onnxpb.TensorProto{w},
		Input:       []*onnxpb.ValueInfoProto{vinfo("x", onnxpb.TensorProto_FLOAT, -1, 3)},
		Output:      []*onnxpb.ValueInfoProto{vinfo("y", onnxpb.TensorProto_FLOAT, -1, 3)},
	}, 13)
}

func mustF32(shape []int64, v []float32) *tensor.Tensor {
	t, err := tensor.FromFloat32(shape, v)
	if err != nil {
		panic(err)
	}
	return t
}

func TestImportBroadcastAddAndRun(t *testing.T) {
	net, err := ImportBytes(addModel(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := mustF32([]int64{2, 3}, []float32{10, 20, 30, 40, 50, 60})
	out, err := cpu.Run(net, map[string]*tensor.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{11, 22, 33, 41, 52, 63}
	got := out["y"].Float32s()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("y = %v, want %v", got, want)
		}
	}
}

func TestImportListsEveryUnsupportedOp(t *testing.T) {
	g := &onnxpb.GraphProto{
		Node: []*onnxpb.NodeProto{
			node("FrobnicateA", "a1", []string{"x"}, []string{"t1"}),
			node("FrobnicateA", "a2", []string{"t1"}, []string{"t2"}),
			node("FrobnicateB", "b1", []string{"t2"}, []string{"y"}),
		},
		Input:  []*onnxpb.ValueInfoProto{vinfo("x", onnxpb.TensorProto_FLOAT, 2)},
		Output: []*onnxpb.ValueInfoProto{vinfo("y", onnxpb.TensorProto_FLOAT, 2)},
	}
	_, err := ImportBytes(model(g, 17), Options{})
	if !errors.Is(err, diag.UnsupportedNode) {
		t.Fatalf("got %v, want UnsupportedNode", err)
	}
	msg := err.Error()
	for _, want := range []string{"FrobnicateA", "2 node(s)", `"a1"`, `"a2"`, "FrobnicateB", `"b1"`, "opset 17"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %s:\n%s", want, msg)
		}
	}
}

func TestImportRejectsCycleAndMissingValue(t *testing.T) {
	cyc := &onnxpb.GraphProto{
		Node: []*onnxpb.NodeProto{
			node("Add", "n1", []string{"x", "b"}, []string{"a"}),
			node("Add", "n2", []string{"x", "a"}, []string{"b"}),
		},
		Input:  []*onnxpb.ValueInfoProto{vinfo("x", onnxpb.TensorProto_FLOAT, 2)},
		Output: []*onnxpb.ValueInfoProto{vinfo("b", onnxpb.TensorProto_FLOAT, 2)},
	}
	if _, err := ImportBytes(model(cyc, 13), Options{}); !errors.Is(err, diag.InvalidGraph) || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("cycle: got %v", err)
	}
	missing := &onnxpb.GraphProto{
		Node:   []*onnxpb.NodeProto{node("Add", "n1", []string{"x", "nowhere"}, []string{"y"})},
		Input:  []*onnxpb.ValueInfoProto{vinfo("x", onnxpb.TensorProto_FLOAT, 2)},
		Output: []*onnxpb.ValueInfoProto{vinfo("y", onnxpb.TensorProto_FLOAT, 2)},
	}
	_, err := ImportBytes(model(missing, 13), Options{})
	if err == nil || !strings.Contains(err.Error(), `"nowhere"`) || !strings.Contains(err.Error(), "n1") {
		t.Fatalf("missing input: got %v, want an error naming the value and the node", err)
	}
}

func TestImportFoldsConstantSubgraphs(t *testing.T) {
	// y = x + (c1 + c2): the inner Add has only constant inputs and must
	// become one constant, leaving one ElementWise layer in the network.
	c1 := TensorToProto(mustF32([]int64{2}, []float32{1, 2}), "c1")
	c2 := TensorToProto(mustF32([]int64{2}, []float32{10, 20}), "c2")
	g := &onnxpb.GraphProto{
		Node: []*onnxpb.NodeProto{
			node("Add", "fold", []string{"c1", "c2"}, []string{"c"}),
			node("Add", "use", []string{"x", "c"}, []string{"y"}),
		},
		Initializer: []*onnxpb.TensorProto{c1, c2},
		Input:       []*onnxpb.ValueInfoProto{vinfo("x", onnxpb.TensorProto_FLOAT, 2)},
		Output:      []*onnxpb.ValueInfoProto{vinfo("y", onnxpb.TensorProto_FLOAT, 2)},
	}
	net, err := ImportBytes(model(g, 13), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ew := 0
	for _, l := range net.Layers() {
		if l.Type().String() == "ElementWise" {
			ew++
		}
	}
	if ew != 1 {
		t.Fatalf("%d ElementWise layers, want 1 (the constant Add folded)", ew)
	}
	out, err := cpu.Run(net, map[string]*tensor.Tensor{"x": mustF32([]int64{2}, []float32{100, 200})})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["y"].Float32s(); got[0] != 111 || got[1] != 222 {
		t.Fatalf("y = %v, want [111 222]", got)
	}
}

func TestImportInputDimsOverride(t *testing.T) {
	net, err := ImportBytes(addModel(), Options{InputDims: map[string]dsl.Dims{"x": {4, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := net.Input(0).Dims(); d[0] != 4 {
		t.Fatalf("input dims %v, want 4x3", d)
	}
}

// TestHeavyConstantSubgraphIsNotFoldedAtImport: a 1024x1024 by 1024x1024
// product of initializers (a billion multiply-adds) stays a layer for the
// engine to compute, so importing it costs no arithmetic.
func TestHeavyConstantSubgraphIsNotFoldedAtImport(t *testing.T) {
	const n = 1024
	raw := make([]byte, 4*n*n)
	w := func(name string) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: proto.String(name), Dims: []int64{n, n}, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), RawData: raw}
	}
	net, err := ImportBytes(model(&onnxpb.GraphProto{
		Node:        []*onnxpb.NodeProto{node("MatMul", "mm", []string{"a", "b"}, []string{"y"})},
		Initializer: []*onnxpb.TensorProto{w("a"), w("b")},
		Output:      []*onnxpb.ValueInfoProto{vinfo("y", onnxpb.TensorProto_FLOAT, n, n)},
	}, 13), Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range net.Layers() {
		found = found || l.Type() == dsl.LayerMatrixMultiply
	}
	if !found {
		t.Error("the product was folded at import")
	}
}
