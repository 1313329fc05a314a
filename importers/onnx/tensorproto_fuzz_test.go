package onnx

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/importers/onnx/onnxpb"
)

// FuzzTensorFromProto decodes arbitrary bytes as a TensorProto and as a
// SparseTensorProto and converts them; nothing may panic, and a decoded
// tensor has the declared dims.
func FuzzTensorFromProto(f *testing.F) {
	for _, c := range typeCases {
		p := tp("x", c.dt, 3)
		p.RawData = c.raw
		f.Add(marshal(f, p))
		q := tp("x", c.dt, 3)
		c.typed(q)
		f.Add(marshal(f, q))
	}
	f.Add(marshal(f, sparse([]int64{2, 3}, []float32{5, 7}, []int64{2, 2}, []int64{0, 1, 1, 2})))
	f.Add(marshal(f, tp("huge", onnxpb.TensorProto_FLOAT, 1<<20, 1<<20)))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		var p onnxpb.TensorProto
		if proto.Unmarshal(data, &p) == nil {
			if got, err := TensorFromProto(&p, dir); err == nil && got.Len() != tensorVolume(p.GetDims()) {
				t.Fatalf("decoded %v from dims %v", got, p.GetDims())
			}
		}
		var sp onnxpb.SparseTensorProto
		if proto.Unmarshal(data, &sp) == nil {
			if n := tensorVolume(sp.GetDims()); n <= 1<<20 || n > maxSparseDense {
				_, _ = SparseToDense(&sp, dir)
			}
		}
	})
}
