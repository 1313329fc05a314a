package onnx

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/importers/onnx/onnxpb"
)

// FuzzParseModel feeds arbitrary bytes to ParseModel and, when a model
// parses, decodes every tensor in it (initializers, sparse initializers,
// tensor attributes, nested graphs). Nothing may panic, and a tensor that
// declares far more elements than it carries must be rejected without
// allocating for it (the fuzzer's memory limit catches that).
func FuzzParseModel(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
		for _, cut := range []int{1, len(seed) / 3, len(seed) / 2, len(seed) - 1} {
			if cut > 0 && cut < len(seed) {
				f.Add(seed[:cut])
			}
		}
	}
	f.Add([]byte{})
	// One empty directory for all inputs: external data never resolves,
	// and creating a directory per input would dominate the run time.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseModel(data, dir)
		if err != nil {
			return
		}
		if m.Proto == nil || m.Opsets == nil || m.IRVersion < MinIRVersion || m.IRVersion > MaxIRVersion {
			t.Fatalf("ParseModel returned an inconsistent model: %+v", m)
		}
		_ = m.Functions()
		forEachTensor(m.Proto.GetGraph(), func(tp *onnxpb.TensorProto, sp *onnxpb.SparseTensorProto) {
			if sp != nil {
				// A sparse tensor's dense size comes from its dims alone;
				// SparseToDense allows up to maxSparseDense elements (GiBs),
				// too slow to allocate on every fuzz input. Sizes above
				// the limit still exercise the rejection.
				if n := tensorVolume(sp.GetDims()); n <= 1<<20 || n > maxSparseDense {
					_, _ = SparseToDense(sp, dir)
				}
				return
			}
			tt, err := TensorFromProto(tp, dir)
			if err == nil && tt.Len() != tensorVolume(tp.GetDims()) {
				t.Fatalf("tensor %q decoded to %v, dims %v", tp.GetName(), tt, tp.GetDims())
			}
		})
	})
}

// tensorVolume is the product of dims, or -1 if a dim is negative or the
// product overflows.
func tensorVolume(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		if d < 0 || (d > 0 && n > math.MaxInt64/d) {
			return -1
		}
		n *= d
	}
	return n
}

// fuzzSeeds are small valid models that exercise each tensor path.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	add := func(m *onnxpb.ModelProto) {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	add(reluModel(8, opset("", 13)))

	raw := reluModel(10, opset("ai.onnx", 18), opset("local", 1))
	raw.Graph.Initializer = []*onnxpb.TensorProto{
		{Name: proto.String("h"), Dims: []int64{2}, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT16)), RawData: []byte{0, 0x3c, 0, 0xc0}},
		{Name: proto.String("d"), Dims: []int64{1}, DataType: proto.Int32(int32(onnxpb.TensorProto_DOUBLE)), DoubleData: []float64{2.5}},
		{Name: proto.String("u"), Dims: []int64{2}, DataType: proto.Int32(int32(onnxpb.TensorProto_UINT64)), Uint64Data: []uint64{1, 2}},
		{Name: proto.String("q"), Dims: []int64{3}, DataType: proto.Int32(int32(onnxpb.TensorProto_INT4)), Int32Data: []int32{0x21, 0x03}},
		{Name: proto.String("big"), Dims: []int64{1 << 20, 1 << 20}, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))},
		{Name: proto.String("ext"), Dims: []int64{4}, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(),
			ExternalData: []*onnxpb.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("w.bin")}}},
	}
	raw.Graph.SparseInitializer = []*onnxpb.SparseTensorProto{sparse([]int64{2, 3}, []float32{5, 7}, []int64{2}, []int64{1, 5})}
	raw.Functions = []*onnxpb.FunctionProto{{Name: proto.String("F"), Domain: proto.String("local"),
		Node: []*onnxpb.NodeProto{{OpType: proto.String("Neg"), Input: []string{"a"}, Output: []string{"b"}}}}}
	add(raw)

	sub := reluModel(9, opset("", 16))
	constant := &onnxpb.TensorProto{Name: proto.String("c"), Dims: []int64{2}, DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: []int64{3, -4}}
	sub.Graph.Node = append(sub.Graph.Node,
		&onnxpb.NodeProto{OpType: proto.String("Constant"), Output: []string{"k"}, Attribute: []*onnxpb.AttributeProto{
			{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: constant}}},
		&onnxpb.NodeProto{OpType: proto.String("If"), Input: []string{"cond"}, Output: []string{"r"}, Attribute: []*onnxpb.AttributeProto{
			{Name: proto.String("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: &onnxpb.GraphProto{Initializer: []*onnxpb.TensorProto{constant}}}}})
	add(sub)
	return seeds
}
