package onnx

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// Test helpers for the elementwise importers: a one-node model built in
// memory, imported and run on the CPU engine.

// ewArg is one node input: a graph input fed at run time, an initializer
// (konst), or an omitted optional input (nil t).
type ewArg struct {
	t       *tensor.Tensor
	konst   bool
	dynamic bool // every dim declared unknown (dim_param), known only at run time
}

func ewIn(t *tensor.Tensor) ewArg    { return ewArg{t: t} }
func ewConst(t *tensor.Tensor) ewArg { return ewArg{t: t, konst: true} }
func ewDyn(t *tensor.Tensor) ewArg   { return ewArg{t: t, dynamic: true} }

func ewAttrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func ewAttrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func ewAttrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// ewRun imports a model of one node (op at opset) and runs it; outputs
// are named y0, y1, ...
func ewRun(t *testing.T, opset int64, op string, nOut int, attrs []*onnxpb.AttributeProto, args ...ewArg) ([]*tensor.Tensor, error) {
	t.Helper()
	g := &onnxpb.GraphProto{Name: proto.String("g")}
	node := &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String("n"), Attribute: attrs}
	feeds := map[string]*tensor.Tensor{}
	for i, a := range args {
		name := string(rune('a' + i))
		switch {
		case a.t == nil:
			name = ""
		case a.konst:
			g.Initializer = append(g.Initializer, TensorToProto(a.t, name))
		default:
			code, _ := DataTypeToProto(a.t.DType())
			shape := &onnxpb.TensorShapeProto{}
			for i, d := range a.t.Shape() {
				dim := &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}}
				if a.dynamic {
					dim = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: name + string(rune('0'+i))}}
				}
				shape.Dim = append(shape.Dim, dim)
			}
			g.Input = append(g.Input, &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
				Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(code), Shape: shape}}}})
			feeds[name] = a.t
		}
		node.Input = append(node.Input, name)
	}
	var outs []string
	for i := 0; i < nOut; i++ {
		name := "y" + string(rune('0'+i))
		node.Output = append(node.Output, name)
		g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(name)})
		outs = append(outs, name)
	}
	g.Node = []*onnxpb.NodeProto{node}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}}
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	net, err := ImportBytes(data, Options{})
	if err != nil {
		return nil, err
	}
	res, err := cpu.Run(net, feeds)
	if err != nil {
		return nil, err
	}
	got := make([]*tensor.Tensor, nOut)
	for i, name := range outs {
		got[i] = res[name]
	}
	return got, nil
}

// ewMust is ewRun that fails the test on an error.
func ewMust(t *testing.T, opset int64, op string, nOut int, attrs []*onnxpb.AttributeProto, args ...ewArg) []*tensor.Tensor {
	t.Helper()
	got, err := ewRun(t, opset, op, nOut, attrs, args...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return got
}

// ewWantErr checks that importing or running fails with code and a
// message containing frag.
func ewWantErr(t *testing.T, code diag.Code, frag string, opset int64, op string, nOut int, attrs []*onnxpb.AttributeProto, args ...ewArg) {
	t.Helper()
	_, err := ewRun(t, opset, op, nOut, attrs, args...)
	if err == nil {
		t.Fatalf("%s: no error, want %v containing %q", op, code, frag)
	}
	if !errors.Is(err, code) || !strings.Contains(err.Error(), frag) {
		t.Fatalf("%s: error %v, want %v containing %q", op, err, code, frag)
	}
}

// ewRand returns n nonzero random floats in [-3, 3].
func ewRand(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		for v[i] == 0 {
			v[i] = math.Round((rng.Float64()*6-3)*1000) / 1000
		}
	}
	return v
}

func ewFloats(t *testing.T, dt tensor.DataType, shape []int64, v []float64) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromFloat64s(dt, shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func ewInts(t *testing.T, dt tensor.DataType, shape []int64, v []int64) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromInt64s(dt, shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// ewCheck compares got with want at the tolerance of got's type (exact
// for integers and Bool), and checks type and shape.
func ewCheck(t *testing.T, got *tensor.Tensor, dt tensor.DataType, shape []int64, want []float64) {
	t.Helper()
	if got == nil {
		t.Fatal("no output")
	}
	if got.DType() != dt {
		t.Fatalf("type %v, want %v", got.DType(), dt)
	}
	if gs := got.Shape(); len(gs) != len(shape) || tensor.Volume(gs) != tensor.Volume(shape) {
		t.Fatalf("shape %v, want %v", gs, shape)
	}
	for i, d := range got.Shape() {
		if d != shape[i] {
			t.Fatalf("shape %v, want %v", got.Shape(), shape)
		}
	}
	if err := tolerance.For(dt).Compare(got.Float64s(), want); err != nil {
		t.Fatal(err)
	}
}
