package onnx_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
	"google.golang.org/protobuf/proto"
)

// nnNode describes a one-node model for the NN importer tests.
type onnxpbAttr = onnxpb.AttributeProto

type nnNode struct {
	op     string
	opset  int64
	attrs  []*onnxpb.AttributeProto
	inputs []nnVal // "" names skip an optional input
	inits  map[string]*tensor.Tensor
	dims   map[string][]int64 // declared input dims (-1 dynamic); default the value's shape
	outs   []string
}

type nnVal struct {
	name string
	t    *tensor.Tensor
}

func nnAttrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func nnAttrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func nnAttrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func nnAttrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// build returns the model bytes and the run-time inputs.
func (n nnNode) build(t *testing.T) ([]byte, map[string]*tensor.Tensor) {
	t.Helper()
	g := &onnxpb.GraphProto{Name: proto.String("g")}
	node := &onnxpb.NodeProto{OpType: proto.String(n.op), Attribute: n.attrs, Output: n.outs}
	feeds := map[string]*tensor.Tensor{}
	for _, in := range n.inputs {
		node.Input = append(node.Input, in.name)
		if in.name == "" {
			continue
		}
		if init, ok := n.inits[in.name]; ok {
			g.Initializer = append(g.Initializer, onnx.TensorToProto(init, in.name))
			continue
		}
		code, _ := onnx.DataTypeToProto(in.t.DType())
		shape := &onnxpb.TensorShapeProto{}
		dims := in.t.Shape()
		if d, ok := n.dims[in.name]; ok {
			dims = d
		}
		for _, d := range dims {
			if d < 0 {
				shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "d"}})
			} else {
				shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
			}
		}
		g.Input = append(g.Input, &onnxpb.ValueInfoProto{Name: proto.String(in.name), Type: &onnxpb.TypeProto{
			Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(code), Shape: shape}}}})
		feeds[in.name] = in.t
	}
	for _, o := range n.outs {
		if o != "" {
			g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(o)})
		}
	}
	g.Node = []*onnxpb.NodeProto{node}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(n.opset)}}}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b, feeds
}

// run imports and runs the model on the CPU engine.
func (n nnNode) run(t *testing.T) (map[string]*tensor.Tensor, error) {
	t.Helper()
	b, feeds := n.build(t)
	net, err := onnx.ImportBytes(b, onnx.Options{})
	if err != nil {
		return nil, err
	}
	return cpu.Run(net, feeds)
}

// check runs the model and compares output name with want.
func (n nnNode) check(t *testing.T, name string, shape []int64, want []float64) {
	t.Helper()
	out, err := n.run(t)
	if err != nil {
		t.Fatal(err)
	}
	got := out[name]
	if got == nil {
		t.Fatalf("no output %q", name)
	}
	if !equalShape(got.Shape(), shape) {
		t.Fatalf("output %q has shape %v, want %v", name, got.Shape(), shape)
	}
	if err := tolerance.For(got.DType()).Scaled(4).Compare(got.Float64s(), want); err != nil {
		t.Fatalf("output %q: %v", name, err)
	}
}

// wantErr imports the model and checks the error's code and message.
func (n nnNode) wantErr(t *testing.T, code diag.Code, frag string) {
	t.Helper()
	b, _ := n.build(t)
	_, err := onnx.ImportBytes(b, onnx.Options{})
	if err == nil {
		t.Fatalf("import succeeded; want %v error containing %q", code, frag)
	}
	if !strings.Contains(err.Error(), frag) {
		t.Fatalf("error %q does not contain %q", err, frag)
	}
	var e *diag.Error
	found := false
	for x := err; x != nil; x = errors.Unwrap(x) {
		if errors.As(x, &e) && e.Code == code {
			found = true
			break
		}
	}
	if !found && !strings.Contains(err.Error(), code.String()) {
		t.Fatalf("error %q does not carry code %v", err, code)
	}
}

func equalShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// nnRand returns a float32 tensor of values in [-1, 1] that are never 0.
func nnRand(t *testing.T, rng *rand.Rand, shape ...int64) (*tensor.Tensor, []float64) {
	t.Helper()
	v := make([]float64, tensor.Volume(shape))
	for i := range v {
		v[i] = rng.Float64()*1.8 - 0.9
		if v[i] >= 0 {
			v[i] += 0.1
		} else {
			v[i] -= 0.1
		}
	}
	x, err := tensor.FromFloat64s(tensor.Float32, shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x, x.Float64s()
}
