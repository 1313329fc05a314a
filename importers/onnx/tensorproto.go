package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

// TensorFromProto decodes a TensorProto into a host tensor. The data comes
// from raw_data (little-endian), from the typed field that matches the data
// type, or from an external file relative to dir (data_location EXTERNAL).
// Types trtc lacks are widened as DataTypeFromProto describes; types it
// cannot hold (STRING...) give diag.UnsupportedAttr naming the tensor.
// Segmented tensors (the segment field) are rejected.
//
// External data is untrusted like the rest of the model: its location must
// be a relative path that stays inside dir (absolute paths, ".." escapes and
// symbolic links leading out are rejected), offset and length must lie
// within the file and length must match the dims, and a checksum (hex
// SHA-1), when given, must match. The size of
// the data is checked against the dims before anything is allocated, so a
// tensor that claims more elements than it carries is an error, not an
// allocation.
func TensorFromProto(tp *onnxpb.TensorProto, dir string) (*tensor.Tensor, error) {
	if tp == nil {
		return nil, diag.Errorf(diag.InvalidArgument, "nil TensorProto")
	}
	name := tp.GetName()
	if tp.Segment != nil {
		return nil, diag.Errorf(diag.UnsupportedAttr, "tensor %q is a segment of a larger tensor; segmented tensors are not supported", name)
	}
	code := tp.GetDataType()
	pt, ok := protoTypes[onnxpb.TensorProto_DataType(code)]
	if !ok {
		if _, err := DataTypeFromProto(code); diag.CodeOf(err) == diag.UnsupportedAttr {
			return nil, diag.Errorf(diag.UnsupportedAttr, "tensor %q has type %s, which trtc does not support", name, protoTypeName(code))
		}
		return nil, diag.Errorf(diag.InvalidFile, "tensor %q has element type %s, which is not a valid ONNX tensor type", name, protoTypeName(code))
	}
	shape := tp.GetDims()
	n := tensor.Volume(shape)
	if n < 0 {
		return nil, diag.Errorf(diag.InvalidFile, "tensor %q has dims %v: dims must be non-negative and their product must fit in int64", name, shape)
	}
	if n > maxTensorElements {
		return nil, diag.Errorf(diag.UnsupportedAttr, "tensor %q has dims %v, %d elements, more than the limit of %d", name, shape, n, int64(maxTensorElements))
	}
	src, err := tensorSource(tp, pt, n, dir)
	if err != nil {
		return nil, err
	}
	return convertRaw(name, src, pt, code, shape, n)
}

// maxTensorElements is the largest tensor trtc decodes, 2^40 elements, the
// bound package tensor applies to shapes it did not choose.
const maxTensorElements = 1 << 40

// rawSize is the byte size of n elements packed as ONNX packs them.
func rawSize(pt protoType, n int64) int64 {
	if pt.bits == 4 {
		return (n + 1) / 2
	}
	return n * int64(pt.bits/8)
}

// tensorSource returns the tensor's data as ONNX raw_data bytes: raw_data
// itself, the external data, or the typed field packed little-endian.
func tensorSource(tp *onnxpb.TensorProto, pt protoType, n int64, dir string) ([]byte, error) {
	name := tp.GetName()
	size := rawSize(pt, n)
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return readExternal(tp, dir, size)
	}
	if tp.RawData != nil {
		if int64(len(tp.RawData)) != size {
			return nil, diag.Errorf(diag.InvalidFile, "tensor %q of type %s and dims %v needs %d bytes of raw_data, has %d", name, protoTypeName(tp.GetDataType()), tp.GetDims(), size, len(tp.RawData))
		}
		return tp.RawData, nil
	}
	return packTypedField(tp, pt, n)
}

// convertRaw turns ONNX little-endian bytes of type code into a trtc tensor,
// widening where the types differ.
func convertRaw(name string, src []byte, pt protoType, code int32, shape []int64, n int64) (*tensor.Tensor, error) {
	switch onnxpb.TensorProto_DataType(code) {
	case onnxpb.TensorProto_BOOL:
		// trtc's Bool holds 0 or 1; any other byte means true.
		b := make([]byte, n)
		for i, v := range src {
			if v != 0 {
				b[i] = 1
			}
		}
		return tensor.FromBytes(tensor.Bool, shape, b)
	case onnxpb.TensorProto_DOUBLE:
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
		}
		return tensor.FromFloat64s(tensor.Float32, shape, vals)
	case onnxpb.TensorProto_INT16:
		vals := make([]int32, n)
		for i := range vals {
			vals[i] = int32(int16(binary.LittleEndian.Uint16(src[2*i:])))
		}
		return tensor.FromInt32(shape, vals)
	case onnxpb.TensorProto_UINT16:
		vals := make([]int32, n)
		for i := range vals {
			vals[i] = int32(binary.LittleEndian.Uint16(src[2*i:]))
		}
		return tensor.FromInt32(shape, vals)
	case onnxpb.TensorProto_UINT32:
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = int64(binary.LittleEndian.Uint32(src[4*i:]))
		}
		return tensor.FromInt64(shape, vals)
	case onnxpb.TensorProto_UINT64:
		vals := make([]int64, n)
		for i := range vals {
			u := binary.LittleEndian.Uint64(src[8*i:])
			if u > math.MaxInt64 {
				return nil, diag.Errorf(diag.UnsupportedAttr, "tensor %q of type UINT64 has element %d = %d, above the largest int64 trtc can store", name, i, u)
			}
			vals[i] = int64(u)
		}
		return tensor.FromInt64(shape, vals)
	}
	// Same layout in ONNX and trtc: copy, so the tensor does not alias the
	// protobuf message (or a file buffer).
	return tensor.FromBytes(pt.dt, shape, append([]byte(nil), src...))
}

// TensorToProto encodes t as a TensorProto with raw_data. It returns nil for
// a nil tensor or an invalid data type.
func TensorToProto(t *tensor.Tensor, name string) *onnxpb.TensorProto {
	if t == nil {
		return nil
	}
	code, ok := DataTypeToProto(t.DType())
	if !ok {
		return nil
	}
	return &onnxpb.TensorProto{
		Name:     proto.String(name),
		Dims:     t.Shape(),
		DataType: proto.Int32(code),
		RawData:  append([]byte{}, t.Bytes()...),
	}
}

// LoadTensorFile reads a file holding one serialized TensorProto, as in
// the ONNX backend test data (input_0.pb, output_0.pb). External data is
// looked up next to the file.
func LoadTensorFile(path string) (*tensor.Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, diag.Wrap(diag.InvalidFile, err, "cannot read tensor file %s", path)
	}
	tp := &onnxpb.TensorProto{}
	if err := proto.Unmarshal(data, tp); err != nil {
		return nil, diag.Wrap(diag.InvalidFile, err, "%s is not a serialized ONNX TensorProto", path)
	}
	if tp.Segment != nil {
		// Field 3 is a segment in a TensorProto but the values of a
		// SequenceProto or OptionalProto, which test data files also hold.
		return nil, diag.Errorf(diag.UnsupportedAttr, "%s holds a segmented tensor or a sequence, map or optional value; only plain tensors can be loaded", path)
	}
	t, err := TensorFromProto(tp, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
