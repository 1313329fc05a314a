package onnx

import (
	"os"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/importers/onnx/onnxpb"
)

// FuzzImport feeds arbitrary bytes to the importer: malformed protobuf,
// huge declared dims, cycles, missing values, external data pointing
// anywhere. Every case must end in a network or an error, never a panic.
func FuzzImport(f *testing.F) {
	f.Add(addModel())
	if b, err := os.ReadFile("testdata/pytorch/small_cnn.onnx"); err == nil {
		f.Add(b)
	}
	huge := &onnxpb.TensorProto{Name: proto.String("w"), Dims: []int64{1 << 20, 1 << 20}, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}
	outside := &onnxpb.TensorProto{Name: proto.String("w"), Dims: []int64{3}, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
		DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(),
		ExternalData: []*onnxpb.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("../../etc/passwd")}}}
	for _, w := range []*onnxpb.TensorProto{huge, outside} {
		f.Add(model(&onnxpb.GraphProto{
			Node:        []*onnxpb.NodeProto{node("Add", "n", []string{"x", "w"}, []string{"y"})},
			Initializer: []*onnxpb.TensorProto{w},
			Input:       []*onnxpb.ValueInfoProto{vinfo("x", onnxpb.TensorProto_FLOAT, 3)},
			Output:      []*onnxpb.ValueInfoProto{vinfo("y", onnxpb.TensorProto_FLOAT, 3)},
		}, 13))
	}
	f.Add(model(&onnxpb.GraphProto{
		Node:   []*onnxpb.NodeProto{node("Add", "a", []string{"x", "b"}, []string{"a"}), node("Add", "b", []string{"a", "x"}, []string{"b"})},
		Input:  []*onnxpb.ValueInfoProto{vinfo("x", onnxpb.TensorProto_FLOAT, 3)},
		Output: []*onnxpb.ValueInfoProto{vinfo("b", onnxpb.TensorProto_FLOAT, 3)},
	}, 13))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		net, err := ImportBytes(data, Options{Dir: dir})
		if err == nil && net == nil {
			t.Fatal("no network and no error")
		}
	})
}
