package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
)

func opset(domain string, v int64) *onnxpb.OperatorSetIdProto {
	return &onnxpb.OperatorSetIdProto{Domain: proto.String(domain), Version: proto.Int64(v)}
}

// reluModel is a one-node model: Y = Relu(X) with a float initializer W
// added to it, X and Y of shape [N, 3].
func reluModel(ir int64, opsets ...*onnxpb.OperatorSetIdProto) *onnxpb.ModelProto {
	dim := func(v int64, p string) *onnxpb.TensorShapeProto_Dimension {
		if p != "" {
			return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: p}}
		}
		return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v}}
	}
	vi := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
				Shape: &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{dim(0, "N"), dim(3, "")}}}}}}
	}
	return &onnxpb.ModelProto{
		IrVersion:    proto.Int64(ir),
		OpsetImport:  opsets,
		ProducerName: proto.String("trtc-test"),
		Graph: &onnxpb.GraphProto{
			Name: proto.String("g"),
			Node: []*onnxpb.NodeProto{
				{OpType: proto.String("Add"), Input: []string{"X", "W"}, Output: []string{"S"}, Name: proto.String("add")},
				{OpType: proto.String("Relu"), Input: []string{"S"}, Output: []string{"Y"}, Name: proto.String("relu")},
			},
			Initializer: []*onnxpb.TensorProto{{
				Name: proto.String("W"), Dims: []int64{3}, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
				FloatData: []float32{1, -2, 0.5},
			}},
			Input:  []*onnxpb.ValueInfoProto{vi("X")},
			Output: []*onnxpb.ValueInfoProto{vi("Y")},
		},
	}
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantErr checks that err carries code and mentions every fragment.
func wantErr(t *testing.T, err error, code diag.Code, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", code)
	}
	if !errors.Is(err, code) {
		t.Fatalf("got %v (code %v), want code %v", err, diag.CodeOf(err), code)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

func TestParseModelRoundTrip(t *testing.T) {
	data := marshal(t, reluModel(8, opset("", 13), opset("com.microsoft", 1)))
	m, err := ParseModel(data, "/models")
	if err != nil {
		t.Fatal(err)
	}
	if m.IRVersion != 8 || m.Dir != "/models" {
		t.Errorf("IRVersion %d Dir %q, want 8 /models", m.IRVersion, m.Dir)
	}
	if len(m.Opsets) != 2 || m.Opsets[""] != 13 || m.Opsets["com.microsoft"] != 1 {
		t.Errorf("Opsets %v, want map[:13 com.microsoft:1]", m.Opsets)
	}
	g := m.Proto.GetGraph()
	if len(g.GetNode()) != 2 || g.GetNode()[1].GetOpType() != "Relu" || g.GetInput()[0].GetName() != "X" {
		t.Errorf("graph did not round-trip: %v", g)
	}
	d := g.GetInput()[0].GetType().GetTensorType().GetShape().GetDim()
	if d[0].GetDimParam() != "N" || d[1].GetDimValue() != 3 {
		t.Errorf("input dims %v, want [N 3]", d)
	}
	w, err := TensorFromProto(g.GetInitializer()[0], m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Float32s(); len(got) != 3 || got[0] != 1 || got[1] != -2 || got[2] != 0.5 {
		t.Errorf("W = %v, want [1 -2 0.5]", got)
	}
}

func TestParseModelDomainNormalized(t *testing.T) {
	m, err := ParseModel(marshal(t, reluModel(7, opset("ai.onnx", 12))), "")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Opsets[""]; !ok || v != 12 || len(m.Opsets) != 1 {
		t.Errorf("Opsets %v, want map[:12]", m.Opsets)
	}
	// The same version under both spellings is one import, not a conflict.
	if _, err := ParseModel(marshal(t, reluModel(7, opset("ai.onnx", 12), opset("", 12))), ""); err != nil {
		t.Errorf("same version under both spellings: %v", err)
	}
}

func TestParseModelIRVersions(t *testing.T) {
	for ir := int64(3); ir <= 10; ir++ {
		if _, err := ParseModel(marshal(t, reluModel(ir, opset("", 9))), ""); err != nil {
			t.Errorf("IR %d: %v", ir, err)
		}
	}
	for _, ir := range []int64{0, 1, 2, 11, 100, -1} {
		_, err := ParseModel(marshal(t, reluModel(ir, opset("", 9))), "")
		wantErr(t, err, diag.UnsupportedAttr, "IR version "+strconv.FormatInt(ir, 10))
	}
	noIR := reluModel(8, opset("", 9))
	noIR.IrVersion = nil
	_, err := ParseModel(marshal(t, noIR), "")
	wantErr(t, err, diag.InvalidFile, "ir_version")
}

func TestParseModelErrors(t *testing.T) {
	_, err := ParseModel([]byte{0xff, 0xff, 0xff}, "")
	wantErr(t, err, diag.InvalidFile, "protobuf")

	_, err = ParseModel(marshal(t, reluModel(8)), "")
	wantErr(t, err, diag.InvalidFile, "opset_import")

	_, err = ParseModel(marshal(t, reluModel(8, opset("", 13), opset("ai.onnx", 11))), "")
	wantErr(t, err, diag.InvalidFile, "imported twice", "11", "13")

	_, err = ParseModel(marshal(t, reluModel(8, opset("", 0))), "")
	wantErr(t, err, diag.InvalidFile, "version 0")

	noGraph := reluModel(8, opset("", 13))
	noGraph.Graph = nil
	_, err = ParseModel(marshal(t, noGraph), "")
	wantErr(t, err, diag.InvalidFile, "no graph")
}

func TestLoadModel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, marshal(t, reluModel(9, opset("", 17))), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Dir != dir || m.Opsets[""] != 17 {
		t.Errorf("Dir %q Opsets %v, want %q map[:17]", m.Dir, m.Opsets, dir)
	}
	_, err = LoadModel(filepath.Join(dir, "missing.onnx"))
	wantErr(t, err, diag.InvalidFile, "missing.onnx")
}

func TestFunctions(t *testing.T) {
	mp := reluModel(10, opset("", 18), opset("local", 1))
	fn := func(domain, name, overload string) *onnxpb.FunctionProto {
		return &onnxpb.FunctionProto{Domain: proto.String(domain), Name: proto.String(name), Overload: proto.String(overload),
			Input: []string{"a"}, Output: []string{"b"},
			Node: []*onnxpb.NodeProto{{OpType: proto.String("Neg"), Input: []string{"a"}, Output: []string{"b"}}}}
	}
	mp.Functions = []*onnxpb.FunctionProto{fn("local", "MyNeg", ""), fn("ai.onnx", "Twice", ""), fn("local", "MyNeg", "v2")}
	m, err := ParseModel(marshal(t, mp), "")
	if err != nil {
		t.Fatal(err)
	}
	fs := m.Functions()
	if len(fs) != 3 {
		t.Fatalf("Functions() has %d entries, want 3: %v", len(fs), fs)
	}
	if f := fs[[2]string{"local", "MyNeg"}]; f == nil || f.GetOverload() != "" {
		t.Errorf("(local, MyNeg) = %v", f)
	}
	if f := fs[[2]string{"", "Twice"}]; f == nil || f.GetName() != "Twice" {
		t.Errorf("(\"\", Twice) = %v (domain ai.onnx must be normalized)", f)
	}
	if f := fs[[2]string{"local", "MyNeg:v2"}]; f == nil || f.GetOverload() != "v2" {
		t.Errorf("(local, MyNeg:v2) = %v", f)
	}
	if f := m.Function("local", "MyNeg", "v2"); f == nil || f.GetOverload() != "v2" {
		t.Errorf("Function(local, MyNeg, v2) = %v", f)
	}
	if f := m.Function("ai.onnx", "Twice", ""); f == nil {
		t.Error("Function(ai.onnx, Twice) not found")
	}
	if f := m.Function("local", "Other", ""); f != nil {
		t.Errorf("Function(local, Other) = %v, want nil", f)
	}

	mp.Functions = append(mp.Functions, fn("local", "MyNeg", ""))
	_, err = ParseModel(marshal(t, mp), "")
	wantErr(t, err, diag.InvalidFile, "MyNeg", "defined twice")

	mp.Functions = []*onnxpb.FunctionProto{fn("local", "", "")}
	_, err = ParseModel(marshal(t, mp), "")
	wantErr(t, err, diag.InvalidFile, "no name")
}
