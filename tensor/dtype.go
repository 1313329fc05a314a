// Package tensor holds host tensors: a data type, a shape and contiguous
// row-major bytes (little-endian), used for weights and for engine inputs and
// outputs. It converts between data types and reads and writes .npy and
// safetensors files.
//
// Conversions round to nearest even into float types (float64 and int64
// sources are rounded once, not twice through float32), truncate toward zero
// and saturate into integer types (NaN gives 0), and test != 0 into Bool.
// FP8E4M3 is OCP E4M3FN: conversion saturates to ±448, NaN stays NaN.
//
// File formats. TensorRT has no float64, so float64 data ('<f8' in .npy,
// F64 in safetensors) is read as Float32. BFloat16, FP8E4M3 and Int4 have no
// numpy dtype and Int4 has no safetensors dtype; the writers reject them
// (convert first) instead of writing bytes other tools would misread. The
// readers treat their input as untrusted: malformed files give an error that
// says what is wrong, never a panic, and memory is allocated only for data
// that is actually present.
package tensor

import "fmt"

// DataType is an element type. The numeric values are TensorRT's
// nvinfer1::DataType values, so the TensorRT target can pass them through.
type DataType int32

const (
	Float32  DataType = 0 // IEEE 754 binary32 (TensorRT kFLOAT)
	Float16  DataType = 1 // IEEE 754 binary16 (kHALF)
	Int8     DataType = 2 // signed 8-bit integer (kINT8)
	Int32    DataType = 3 // signed 32-bit integer (kINT32)
	Bool     DataType = 4 // one byte per element, 0 or 1 (kBOOL)
	UInt8    DataType = 5 // unsigned 8-bit integer (kUINT8)
	FP8E4M3  DataType = 6 // 8-bit float, 4 exponent bits, 3 mantissa bits, no infinities (kFP8)
	BFloat16 DataType = 7 // bfloat16: binary32 with the low 16 mantissa bits dropped (kBF16)
	Int64    DataType = 8 // signed 64-bit integer (kINT64)
	Int4     DataType = 9 // signed 4-bit integer, two per byte, low nibble first (kINT4)
)

// AllTypes lists every supported data type, for tests and help text.
var AllTypes = []DataType{Float32, Float16, BFloat16, FP8E4M3, Int8, UInt8, Int32, Int64, Bool, Int4}

var typeNames = map[DataType]string{
	Float32: "float32", Float16: "float16", BFloat16: "bfloat16", FP8E4M3: "fp8e4m3",
	Int8: "int8", UInt8: "uint8", Int32: "int32", Int64: "int64", Bool: "bool", Int4: "int4",
}

func (d DataType) String() string {
	if s, ok := typeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// ParseDataType accepts the names String returns plus common aliases
// (fp32, fp16, half, bf16, fp8, float).
func ParseDataType(s string) (DataType, error) {
	for d, n := range typeNames {
		if n == s {
			return d, nil
		}
	}
	switch s {
	case "fp32", "float":
		return Float32, nil
	case "fp16", "half":
		return Float16, nil
	case "bf16":
		return BFloat16, nil
	case "fp8", "e4m3":
		return FP8E4M3, nil
	}
	return 0, fmt.Errorf("unknown data type %q (want one of float32, float16, bfloat16, fp8e4m3, int8, uint8, int32, int64, bool, int4)", s)
}

// Valid reports whether d is one of the supported types.
func (d DataType) Valid() bool { _, ok := typeNames[d]; return ok }

// Bits is the storage size of one element in bits.
func (d DataType) Bits() int {
	switch d {
	case Float32, Int32:
		return 32
	case Float16, BFloat16:
		return 16
	case Int8, UInt8, Bool, FP8E4M3:
		return 8
	case Int64:
		return 64
	case Int4:
		return 4
	}
	return 0
}

// IsFloat reports whether d is a floating-point type.
func (d DataType) IsFloat() bool {
	return d == Float32 || d == Float16 || d == BFloat16 || d == FP8E4M3
}

// IsInteger reports whether d is a (signed or unsigned) integer type; Bool is not.
func (d DataType) IsInteger() bool {
	return d == Int8 || d == UInt8 || d == Int32 || d == Int64 || d == Int4
}

// ByteSize is the number of bytes n elements of type d occupy.
func (d DataType) ByteSize(n int64) int64 {
	if d == Int4 {
		return (n + 1) / 2
	}
	return n * int64(d.Bits()/8)
}
