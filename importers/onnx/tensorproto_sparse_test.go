package onnx

import (
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

func sparse(dims []int64, vals []float32, idxDims []int64, idx []int64) *onnxpb.SparseTensorProto {
	v := tp("sp", onnxpb.TensorProto_FLOAT, int64(len(vals)))
	v.FloatData = vals
	i := tp("sp_idx", onnxpb.TensorProto_INT64, idxDims...)
	i.Int64Data = idx
	return &onnxpb.SparseTensorProto{Values: v, Indices: i, Dims: dims}
}

func TestSparseToDense(t *testing.T) {
	// Dense [2, 3]:
	//   0 5 0
	//   0 0 7
	want := []float32{0, 5, 0, 0, 0, 7}
	linear := sparse([]int64{2, 3}, []float32{5, 7}, []int64{2}, []int64{1, 5})
	coords := sparse([]int64{2, 3}, []float32{5, 7}, []int64{2, 2}, []int64{0, 1, 1, 2})
	for name, sp := range map[string]*onnxpb.SparseTensorProto{"linear": linear, "coords": coords} {
		got, err := SparseToDense(sp, "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s := got.Shape(); len(s) != 2 || s[0] != 2 || s[1] != 3 || got.DType() != tensor.Float32 {
			t.Fatalf("%s: got %v, want float32 [2 3]", name, got)
		}
		for i, v := range got.Float32s() {
			if v != want[i] {
				t.Fatalf("%s: dense = %v, want %v", name, got.Float32s(), want)
			}
		}
	}

	// INT4 values: nibbles land in the right halves of the dense bytes.
	v := tp("q", onnxpb.TensorProto_INT4, 2)
	v.RawData = []byte{0x9f} // -1, -7
	i := tp("q_idx", onnxpb.TensorProto_INT64, 2)
	i.Int64Data = []int64{1, 2}
	got, err := SparseToDense(&onnxpb.SparseTensorProto{Values: v, Indices: i, Dims: []int64{4}}, "")
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, got, tensor.Int4, []int64{4}, []byte{0xf0, 0x09})

	// No values at all: an all-zero tensor.
	empty := sparse([]int64{2, 2}, nil, []int64{0}, nil)
	got, err = SparseToDense(empty, "")
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, got, tensor.Float32, []int64{2, 2}, make([]byte, 16))
}

func TestSparseToDenseErrors(t *testing.T) {
	cases := []struct {
		sp        *onnxpb.SparseTensorProto
		code      diag.Code
		fragments []string
	}{
		{sparse([]int64{2, 3}, []float32{5}, []int64{1}, []int64{6}), diag.InvalidFile, []string{`"sp"`, "linear index 6", "[0, 6)"}},
		{sparse([]int64{2, 3}, []float32{5}, []int64{1}, []int64{-1}), diag.InvalidFile, []string{"linear index -1"}},
		{sparse([]int64{2, 3}, []float32{5}, []int64{1, 2}, []int64{2, 0}), diag.InvalidFile, []string{"index 2", "axis 0", "[0, 2)"}},
		{sparse([]int64{2, 3}, []float32{5}, []int64{1, 2}, []int64{0, 3}), diag.InvalidFile, []string{"index 3", "axis 1"}},
		{sparse([]int64{2, 3}, []float32{5, 6}, []int64{2, 3}, []int64{0, 0, 0, 0, 0, 0}), diag.InvalidFile, []string{"[2] or [2, 2]"}},
		{sparse([]int64{2, -3}, []float32{5}, []int64{1}, []int64{0}), diag.InvalidFile, []string{"non-negative"}},
		{sparse([]int64{1 << 20, 1 << 20}, []float32{5}, []int64{1}, []int64{0}), diag.UnsupportedAttr, []string{"limit"}},
		{&onnxpb.SparseTensorProto{Dims: []int64{2}}, diag.InvalidFile, []string{"values and indices"}},
	}
	for _, c := range cases {
		_, err := SparseToDense(c.sp, "")
		wantErr(t, err, c.code, c.fragments...)
	}
	fidx := sparse([]int64{2}, []float32{5}, []int64{1}, []int64{0})
	fidx.Indices = tp("fi", onnxpb.TensorProto_FLOAT, 1)
	fidx.Indices.FloatData = []float32{0}
	_, err := SparseToDense(fidx, "")
	wantErr(t, err, diag.InvalidFile, "indices must be integers")

	twoD := sparse([]int64{4}, nil, []int64{0}, nil)
	twoD.Values = tp("v2", onnxpb.TensorProto_FLOAT, 1, 1)
	twoD.Values.FloatData = []float32{1}
	_, err = SparseToDense(twoD, "")
	wantErr(t, err, diag.InvalidFile, "1-D")

	_, err = SparseToDense(nil, "")
	wantErr(t, err, diag.InvalidArgument)
}
