package onnx

import (
	"strconv"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

// protoType is how trtc stores one ONNX element type (see DataTypeFromProto).
type protoType struct {
	dt   tensor.DataType // what trtc stores
	bits int             // bits of one element as ONNX packs it in raw_data
}

var protoTypes = map[onnxpb.TensorProto_DataType]protoType{
	onnxpb.TensorProto_FLOAT:        {tensor.Float32, 32},
	onnxpb.TensorProto_UINT8:        {tensor.UInt8, 8},
	onnxpb.TensorProto_INT8:         {tensor.Int8, 8},
	onnxpb.TensorProto_UINT16:       {tensor.Int32, 16},
	onnxpb.TensorProto_INT16:        {tensor.Int32, 16},
	onnxpb.TensorProto_INT32:        {tensor.Int32, 32},
	onnxpb.TensorProto_INT64:        {tensor.Int64, 64},
	onnxpb.TensorProto_BOOL:         {tensor.Bool, 8},
	onnxpb.TensorProto_FLOAT16:      {tensor.Float16, 16},
	onnxpb.TensorProto_DOUBLE:       {tensor.Float32, 64},
	onnxpb.TensorProto_UINT32:       {tensor.Int64, 32},
	onnxpb.TensorProto_UINT64:       {tensor.Int64, 64},
	onnxpb.TensorProto_BFLOAT16:     {tensor.BFloat16, 16},
	onnxpb.TensorProto_FLOAT8E4M3FN: {tensor.FP8E4M3, 8},
	onnxpb.TensorProto_INT4:         {tensor.Int4, 4},
}

// protoTypeName spells an ONNX data type code for messages.
func protoTypeName(dt int32) string {
	if n, ok := onnxpb.TensorProto_DataType_name[dt]; ok {
		return n
	}
	return "code " + strconv.Itoa(int(dt))
}

// DataTypeFromProto maps an ONNX TensorProto.DataType code to the trtc type
// its values are stored in. FLOAT, FLOAT16, BFLOAT16, INT8, UINT8, INT32,
// INT64, BOOL and INT4 map to the trtc type of the same name. TensorRT (and
// so trtc) has no float64, int16, uint16, uint32 or uint64, so those are
// widened to the nearest type that holds their values:
//
//	DOUBLE        -> Float32 (rounded to nearest even; may lose precision)
//	INT16, UINT16 -> Int32
//	UINT32        -> Int64
//	UINT64        -> Int64 (TensorFromProto rejects values above MaxInt64)
//	FLOAT8E4M3FN  -> FP8E4M3 (the same OCP E4M3 encoding)
//
// STRING, COMPLEX64, COMPLEX128, FLOAT8E4M3FNUZ, FLOAT8E5M2,
// FLOAT8E5M2FNUZ, UINT4 and FLOAT4E2M1 have no trtc type and give
// diag.UnsupportedAttr; UNDEFINED and unknown codes give diag.InvalidFile.
func DataTypeFromProto(dt int32) (tensor.DataType, error) {
	if pt, ok := protoTypes[onnxpb.TensorProto_DataType(dt)]; ok {
		return pt.dt, nil
	}
	if _, known := onnxpb.TensorProto_DataType_name[dt]; known && dt != int32(onnxpb.TensorProto_UNDEFINED) {
		return 0, diag.Errorf(diag.UnsupportedAttr, "ONNX type %s is not supported by trtc", protoTypeName(dt))
	}
	return 0, diag.Errorf(diag.InvalidFile, "ONNX type %s is not a valid tensor element type", protoTypeName(dt))
}

// dataTypeToProto is the ONNX code trtc writes for each of its types.
var dataTypeToProto = map[tensor.DataType]onnxpb.TensorProto_DataType{
	tensor.Float32:  onnxpb.TensorProto_FLOAT,
	tensor.Float16:  onnxpb.TensorProto_FLOAT16,
	tensor.BFloat16: onnxpb.TensorProto_BFLOAT16,
	tensor.FP8E4M3:  onnxpb.TensorProto_FLOAT8E4M3FN,
	tensor.Int8:     onnxpb.TensorProto_INT8,
	tensor.UInt8:    onnxpb.TensorProto_UINT8,
	tensor.Int32:    onnxpb.TensorProto_INT32,
	tensor.Int64:    onnxpb.TensorProto_INT64,
	tensor.Bool:     onnxpb.TensorProto_BOOL,
	tensor.Int4:     onnxpb.TensorProto_INT4,
}

// DataTypeToProto returns the ONNX code of a trtc data type.
func DataTypeToProto(dt tensor.DataType) (int32, bool) {
	p, ok := dataTypeToProto[dt]
	return int32(p), ok
}
