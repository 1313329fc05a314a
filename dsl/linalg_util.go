package dsl

import (
	"fmt"
	"math/bits"
)

// AxesFromMask lists the axes whose bits are set in a TensorRT axes bitmask
// (bit i is axis i), in increasing order. It fails when a bit at or above
// rank is set, naming the offending axis, so a mask written for a wider
// tensor is reported instead of silently ignored.
func AxesFromMask(mask uint32, rank int) ([]int, error) {
	if rank < 32 && mask>>uint(rank) != 0 {
		hi := 31 - bits.LeadingZeros32(mask)
		return nil, fmt.Errorf("axes mask %#x sets bit %d, but the input has rank %d (valid bits are 0..%d)", mask, hi, rank, rank-1)
	}
	var axes []int
	for a := 0; a < rank && a < 32; a++ {
		if mask&(1<<uint(a)) != 0 {
			axes = append(axes, a)
		}
	}
	return axes, nil
}

// linalgMaskString prints a mask with its axes, for error messages.
func linalgMaskString(mask uint32) string {
	var axes []int
	for a := 0; a < 32; a++ {
		if mask&(1<<uint(a)) != 0 {
			axes = append(axes, a)
		}
	}
	return fmt.Sprintf("%#x (axes %v)", mask, axes)
}

// linalgIsFloat reports whether dt is one of the float types TensorRT's
// arithmetic layers compute in (not the storage-only FP8).
func linalgIsFloat(dt DataType) bool {
	return dt == Float32 || dt == Float16 || dt == BFloat16
}

// linalgErr formats a plain error for the helpers above.
func linalgErr(format string, args ...any) error { return fmt.Errorf(format, args...) }
