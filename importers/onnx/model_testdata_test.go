package onnx

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

// onnxTestData is where Debian's libonnx-testdata package puts the ONNX
// backend test data (one directory per test: model.onnx plus
// test_data_set_*/input_*.pb and output_*.pb).
const onnxTestData = "/usr/share/libonnx-testdata/data"

// TestONNXBackendTestData loads every model and every tensor file of the ONNX
// backend test data, when installed. Everything must load, except for
// unsupported element types (UnsupportedAttr) and test files that hold a
// sequence, map or optional rather than a tensor; nothing may panic.
func TestONNXBackendTestData(t *testing.T) {
	if _, err := os.Stat(onnxTestData); err != nil {
		t.Skipf("ONNX backend test data not installed (%s): apt-get install libonnx-testdata", onnxTestData)
	}
	for _, sub := range []string{"node", "pytorch-converted", "pytorch-operator", "simple"} {
		t.Run(sub, func(t *testing.T) { checkTestDataDir(t, filepath.Join(onnxTestData, sub)) })
	}
}

type testDataStats struct {
	models, modelsOK, tensorsInModels, tensorsOK int
	files, filesOK, notTensors                   int
	unsupported                                  map[string]int // type name -> count (models' tensors and files)
}

func checkTestDataDir(t *testing.T, root string) {
	if _, err := os.Stat(root); err != nil {
		t.Skipf("%s absent", root)
	}
	st := testDataStats{unsupported: map[string]int{}}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(path, ".onnx"):
			checkTestModel(t, path, &st)
		case strings.HasSuffix(path, ".pb"):
			checkTestTensorFile(t, path, &st)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for k, v := range st.unsupported {
		types = append(types, k+":"+strconv.Itoa(v))
	}
	sort.Strings(types)
	if len(types) == 0 {
		types = []string{"none"}
	}
	t.Logf("%s: %d/%d models load; %d/%d of their tensors (initializers, Constant values, sparse) decode; %d/%d tensor files load, %d hold no tensor (sequence/map/optional); unsupported types: %s",
		filepath.Base(root), st.modelsOK, st.models, st.tensorsOK, st.tensorsInModels, st.filesOK, st.files, st.notTensors, strings.Join(types, " "))
}

// checkUnsupported accepts err only as an UnsupportedAttr for a type trtc
// lacks, recording the type; it reports false for any other error.
func checkUnsupported(err error, dataType int32, st *testDataStats) bool {
	if !errors.Is(err, diag.UnsupportedAttr) {
		return false
	}
	if _, e := DataTypeFromProto(dataType); e == nil {
		return false // a supported type must decode
	}
	st.unsupported[protoTypeName(dataType)]++
	return true
}

func checkTestModel(t *testing.T, path string, st *testDataStats) {
	st.models++
	m, err := LoadModel(path)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	st.modelsOK++
	forEachTensor(m.Proto.GetGraph(), func(tp *onnxpb.TensorProto, sp *onnxpb.SparseTensorProto) {
		st.tensorsInModels++
		var err error
		var dt int32
		if sp != nil {
			_, err = SparseToDense(sp, m.Dir)
			dt = sp.GetValues().GetDataType()
		} else {
			_, err = TensorFromProto(tp, m.Dir)
			dt = tp.GetDataType()
		}
		if err == nil {
			st.tensorsOK++
		} else if !checkUnsupported(err, dt, st) {
			t.Errorf("%s: %v", path, err)
		}
	})
}

// forEachTensor visits the initializers, sparse initializers and tensor
// attributes of g and of its subgraphs.
func forEachTensor(g *onnxpb.GraphProto, f func(*onnxpb.TensorProto, *onnxpb.SparseTensorProto)) {
	if g == nil {
		return
	}
	for _, tp := range g.GetInitializer() {
		f(tp, nil)
	}
	for _, sp := range g.GetSparseInitializer() {
		f(nil, sp)
	}
	for _, n := range g.GetNode() {
		for _, a := range n.GetAttribute() {
			if a.T != nil {
				f(a.T, nil)
			}
			if a.SparseTensor != nil {
				f(nil, a.SparseTensor)
			}
			for _, tp := range a.GetTensors() {
				f(tp, nil)
			}
			forEachTensor(a.G, f)
			for _, sg := range a.GetGraphs() {
				forEachTensor(sg, f)
			}
		}
	}
}

func checkTestTensorFile(t *testing.T, path string, st *testDataStats) {
	st.files++
	_, err := LoadTensorFile(path)
	if err == nil {
		st.filesOK++
		return
	}
	data, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatal(rerr)
	}
	var tp onnxpb.TensorProto
	_ = proto.Unmarshal(data, &tp)
	if checkUnsupported(err, tp.GetDataType(), st) {
		return
	}
	// Sequence and optional values (SequenceProto, OptionalProto) are
	// not tensors; check them as such and decode the tensors inside.
	if checkContainerFile(t, path, data, st) {
		st.notTensors++
		return
	}
	t.Errorf("%v", err)
}

// checkContainerFile decodes a test data file as a sequence or an optional
// and every tensor inside it; it reports whether that worked. An
// OptionalProto has the same wire layout as a SequenceProto of at most one
// element, so one decoder serves both.
func checkContainerFile(t *testing.T, path string, data []byte, st *testDataStats) bool {
	seq := &onnxpb.SequenceProto{}
	if proto.Unmarshal(data, seq) != nil || seq.GetElemType() < 0 || seq.GetElemType() > 5 {
		return false
	}
	var tensors []*onnxpb.TensorProto
	var walk func(*onnxpb.SequenceProto)
	walk = func(s *onnxpb.SequenceProto) {
		tensors = append(tensors, s.GetTensorValues()...)
		for _, inner := range s.GetSequenceValues() {
			walk(inner)
		}
		for _, inner := range s.GetOptionalValues() {
			if inner.TensorValue != nil {
				tensors = append(tensors, inner.TensorValue)
			}
		}
	}
	walk(seq)
	for _, tp := range tensors {
		if _, err := TensorFromProto(tp, filepath.Dir(path)); err != nil && !checkUnsupported(err, tp.GetDataType(), st) {
			t.Errorf("%s: tensor inside a sequence or optional: %v", path, err)
		}
	}
	return true
}

// TestONNXBackendTestDataValues checks decoded values where the test data
// itself says what they must be: Abs's output is |input|, and a Cast to
// FLOAT from DOUBLE, FLOAT16 or BFLOAT16 gives the input's value as float32,
// which is what trtc's widening must produce.
func TestONNXBackendTestDataValues(t *testing.T) {
	node := filepath.Join(onnxTestData, "node")
	if _, err := os.Stat(node); err != nil {
		t.Skipf("ONNX backend test data not installed (%s)", node)
	}
	load := func(test, file string) []float32 {
		t.Helper()
		tt, err := LoadTensorFile(filepath.Join(node, test, "test_data_set_0", file))
		if err != nil {
			t.Fatal(err)
		}
		return tt.AsFloat32()
	}
	in, out := load("test_abs", "input_0.pb"), load("test_abs", "output_0.pb")
	if len(in) == 0 || len(in) != len(out) {
		t.Fatalf("test_abs: %d inputs, %d outputs", len(in), len(out))
	}
	for i := range in {
		if a := float32(math.Abs(float64(in[i]))); a != out[i] {
			t.Fatalf("test_abs element %d: |%v| != %v", i, in[i], out[i])
		}
	}
	for _, test := range []string{"test_cast_DOUBLE_to_FLOAT", "test_cast_FLOAT16_to_FLOAT", "test_cast_BFLOAT16_to_FLOAT"} {
		in, out := load(test, "input_0.pb"), load(test, "output_0.pb")
		if test == "test_cast_BFLOAT16_to_FLOAT" {
			// Older releases of the test data store this input as UINT16
			// bit patterns (the model says BFLOAT16), which trtc widens to
			// Int32 values; read them back as bfloat16 bits.
			raw, err := LoadTensorFile(filepath.Join(node, test, "test_data_set_0", "input_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			if raw.DType() == tensor.Int32 {
				for i, bits := range raw.Int32s() {
					in[i] = tensor.BFloat16ToFloat32(uint16(bits))
				}
			}
		}
		if len(in) == 0 || len(in) != len(out) {
			t.Fatalf("%s: %d inputs, %d outputs", test, len(in), len(out))
		}
		for i := range in {
			if in[i] != out[i] && !(math.IsNaN(float64(in[i])) && math.IsNaN(float64(out[i]))) {
				t.Fatalf("%s element %d: input decodes to %v, Cast output is %v", test, i, in[i], out[i])
			}
		}
	}
}
