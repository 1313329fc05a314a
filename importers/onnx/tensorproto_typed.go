package onnx

import (
	"encoding/binary"
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
)

// packTypedField packs a tensor's typed repeated field (float_data,
// int32_data, int64_data, double_data or uint64_data, whichever the data
// type uses) into raw_data form. The field must hold exactly the number of
// elements the dims call for; values that do not fit the data type are an
// error rather than silently truncated.
func packTypedField(tp *onnxpb.TensorProto, pt protoType, n int64) ([]byte, error) {
	name := tp.GetName()
	code := onnxpb.TensorProto_DataType(tp.GetDataType())
	// Check the element count first: the allocation below is sized by the
	// dims, which must be backed by data actually present in the message.
	field, have, want := typedField(tp, code, n)
	if int64(have) != want {
		if have == 0 {
			return nil, diag.Errorf(diag.InvalidFile, "tensor %q of type %s and dims %v has no data (expected %d values in raw_data or %s)", name, code, tp.GetDims(), want, field)
		}
		return nil, diag.Errorf(diag.InvalidFile, "tensor %q of type %s and dims %v needs %d values in %s, has %d", name, code, tp.GetDims(), want, field, have)
	}
	out := make([]byte, 0, rawSize(pt, n))
	switch code {
	case onnxpb.TensorProto_FLOAT:
		for _, v := range tp.FloatData {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	case onnxpb.TensorProto_DOUBLE:
		for _, v := range tp.DoubleData {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
	case onnxpb.TensorProto_INT64:
		for _, v := range tp.Int64Data {
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		for i, v := range tp.Uint64Data {
			if code == onnxpb.TensorProto_UINT32 {
				if v > math.MaxUint32 {
					return nil, outOfType(name, code, i, int64(min(v, math.MaxInt64)))
				}
				out = binary.LittleEndian.AppendUint32(out, uint32(v))
			} else {
				out = binary.LittleEndian.AppendUint64(out, v)
			}
		}
	default:
		// Everything else lives in int32_data: values for the integer
		// types and BOOL, bit patterns for the 16- and 8-bit floats, and
		// for INT4 one byte (two values, low nibble first) per entry.
		lo, hi := int32Range(code)
		for i, v := range tp.Int32Data {
			if v < lo || v > hi {
				return nil, outOfType(name, code, i, int64(v))
			}
			switch {
			case code == onnxpb.TensorProto_BOOL:
				out = append(out, b2u8(v != 0)) // any non-zero entry is true
			case pt.bits == 32:
				out = binary.LittleEndian.AppendUint32(out, uint32(v))
			case pt.bits == 16:
				out = binary.LittleEndian.AppendUint16(out, uint16(v))
			default:
				out = append(out, byte(v))
			}
		}
	}
	return out, nil
}

// typedField names the repeated field a type's values live in, how many
// entries it has, and how many the dims call for.
func typedField(tp *onnxpb.TensorProto, code onnxpb.TensorProto_DataType, n int64) (string, int, int64) {
	switch code {
	case onnxpb.TensorProto_FLOAT:
		return "float_data", len(tp.FloatData), n
	case onnxpb.TensorProto_DOUBLE:
		return "double_data", len(tp.DoubleData), n
	case onnxpb.TensorProto_INT64:
		return "int64_data", len(tp.Int64Data), n
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		return "uint64_data", len(tp.Uint64Data), n
	case onnxpb.TensorProto_INT4:
		return "int32_data", len(tp.Int32Data), (n + 1) / 2
	}
	return "int32_data", len(tp.Int32Data), n
}

// int32Range is the range of int32_data entries valid for a type: its
// values, or its bit patterns for the float types and packed INT4.
func int32Range(code onnxpb.TensorProto_DataType) (lo, hi int32) {
	switch code {
	case onnxpb.TensorProto_INT8:
		return math.MinInt8, math.MaxInt8
	case onnxpb.TensorProto_INT16:
		return math.MinInt16, math.MaxInt16
	case onnxpb.TensorProto_UINT8, onnxpb.TensorProto_FLOAT8E4M3FN, onnxpb.TensorProto_INT4:
		return 0, math.MaxUint8
	case onnxpb.TensorProto_UINT16, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return 0, math.MaxUint16
	}
	return math.MinInt32, math.MaxInt32
}

func outOfType(name string, code onnxpb.TensorProto_DataType, i int, v int64) error {
	return diag.Errorf(diag.InvalidFile, "tensor %q of type %s has value %d at position %d, which does not fit the type", name, code, v, i)
}

func b2u8(b bool) byte {
	if b {
		return 1
	}
	return 0
}
