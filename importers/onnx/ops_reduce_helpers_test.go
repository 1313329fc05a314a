package onnx

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// Test helpers of the reduce/loss/signal group: one-node ONNX models built
// in memory, imported and run on the CPU engine.

// redIn is a graph input (init nil) or an initializer (init set). A -1 in
// dims is a named (dynamic) dim.
type redIn struct {
	name string
	dt   tensor.DataType
	dims []int64
	init *tensor.Tensor
}

func redAttrI(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func redAttrIs(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func redAttrS(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func redNode(op string, ins, outs []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Input: ins, Output: outs, Attribute: attrs}
}

// redModelBytes serializes a one-node model at the given opset.
func redModelBytes(t *testing.T, opset int64, node *onnxpb.NodeProto, ins []redIn) []byte {
	t.Helper()
	g := &onnxpb.GraphProto{Name: proto.String("g"), Node: []*onnxpb.NodeProto{node}}
	for _, in := range ins {
		if in.init != nil {
			g.Initializer = append(g.Initializer, TensorToProto(in.init, in.name))
			continue
		}
		shape := &onnxpb.TensorShapeProto{}
		for _, d := range in.dims {
			dim := &onnxpb.TensorShapeProto_Dimension{}
			if d < 0 {
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "n"}
			} else {
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
			}
			shape.Dim = append(shape.Dim, dim)
		}
		et := int32(dataTypeToProto[in.dt])
		g.Input = append(g.Input, &onnxpb.ValueInfoProto{Name: proto.String(in.name), Type: &onnxpb.TypeProto{
			Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: &et, Shape: shape}}}})
	}
	for _, o := range node.GetOutput() {
		if o != "" {
			g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(o)})
		}
	}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}}
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// redRun imports the one-node model and runs it on feeds.
func redRun(t *testing.T, opset int64, node *onnxpb.NodeProto, ins []redIn, feeds map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	t.Helper()
	net, err := ImportBytes(redModelBytes(t, opset, node, ins), Options{})
	if err != nil {
		return nil, err
	}
	return cpu.Run(net, feeds)
}

// redCheck compares got with shape and values want (floats within a
// relative 1e-5, NaN and infinities exactly).
func redCheck(t *testing.T, what string, got *tensor.Tensor, dt tensor.DataType, shape []int64, want []float64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no output", what)
	}
	if got.DType() != dt {
		t.Fatalf("%s: type %v, want %v", what, got.DType(), dt)
	}
	if len(got.Shape()) != len(shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), shape)
	}
	for i, d := range got.Shape() {
		if d != shape[i] {
			t.Fatalf("%s: shape %v, want %v", what, got.Shape(), shape)
		}
	}
	g := got.Float64s()
	if len(g) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(g), len(want))
	}
	for i := range g {
		w := want[i]
		ok := g[i] == w || (math.IsNaN(g[i]) && math.IsNaN(w)) ||
			(!math.IsInf(w, 0) && math.Abs(g[i]-w) <= 1e-5*(1+math.Abs(w)))
		if !ok {
			t.Fatalf("%s: value %d = %v, want %v (all: %v)", what, i, g[i], w, g)
		}
	}
}

// redWantErr checks that err has the code and mentions frag.
func redWantErr(t *testing.T, err error, code diag.Code, frag string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v mentioning %q", code, frag)
	}
	if diag.CodeOf(err) != code || !strings.Contains(err.Error(), frag) {
		t.Fatalf("error %v, want %v mentioning %q", err, code, frag)
	}
}

func redF32(t *testing.T, shape []int64, v ...float32) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromFloat32(shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func redI64(t *testing.T, shape []int64, v ...int64) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromInt64(shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
