package qdq

import (
	"math"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// maxRoundTripScales bounds the distinct scale values roundTrips checks
// (each costs one pass over at most 256 codes).
const maxRoundTripScales = 1 << 14

// roundTrips reports whether Quantize(Dequantize(x, s), s) == x for every
// code x of the quantized type qt and every scale value s, with the
// Dequantize producing ft. It computes as the CPU engine does (the
// oracle; TensorRT's kernels round the same way): the product x*s in
// float32, rounded to ft; the quotient in float32; then round half to
// even and saturation for integers, or the nearest FP8 value. NaN codes
// must come back NaN; zeros of either sign count as equal.
func roundTrips(qt, ft dsl.DataType, scales []float64) bool {
	codes := allCodes(qt)
	if codes == nil || len(scales) == 0 {
		return false
	}
	x := codes.AsFloat32()
	want := codes.Float64s()
	seen := map[float32]bool{}
	prod := make([]float32, len(x))
	back := make([]float64, len(x))
	for _, s64 := range scales {
		s := float32(s64)
		if seen[s] {
			continue
		}
		if seen[s] = true; len(seen) > maxRoundTripScales || !(s > 0) {
			return false
		}
		for i, v := range x {
			prod[i] = v * s
		}
		dq, err := tensor.FromFloat32s(ft, codes.Shape(), prod)
		if err != nil {
			return false
		}
		for i, v := range dq.AsFloat32() {
			back[i] = quantRound(qt, float64(v/s))
		}
		got, err := tensor.FromFloat64s(qt, codes.Shape(), back)
		if err != nil {
			return false
		}
		for i, g := range got.Float64s() {
			if g != want[i] && !(math.IsNaN(g) && math.IsNaN(want[i])) {
				return false
			}
		}
	}
	return true
}

// allCodes returns every value of a quantized type, or nil for another type.
func allCodes(qt dsl.DataType) *tensor.Tensor {
	switch qt {
	case dsl.Int8, dsl.Int4:
		lo, hi := int64(-128), int64(127)
		if qt == dsl.Int4 {
			lo, hi = -8, 7
		}
		v := make([]int64, 0, hi-lo+1)
		for c := lo; c <= hi; c++ {
			v = append(v, c)
		}
		t, err := tensor.FromInt64s(qt, []int64{int64(len(v))}, v)
		if err != nil {
			return nil
		}
		return t
	case dsl.FP8E4M3:
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		t, err := tensor.FromBytes(dsl.FP8E4M3, []int64{256}, b)
		if err != nil {
			return nil
		}
		return t
	}
	return nil
}

// quantRound is the Quantize layer's rounding with a zero zero point
// (TensorRT IQuantizeLayer; the CPU engine's quantRound): integers round
// half to even and saturate (NaN gives 0); FP8 rounds on store.
func quantRound(qt dsl.DataType, r float64) float64 {
	if qt == dsl.FP8E4M3 {
		return r
	}
	if math.IsNaN(r) {
		return 0
	}
	lo, hi := -128.0, 127.0
	if qt == dsl.Int4 {
		lo, hi = -8, 7
	}
	return math.Max(lo, math.Min(hi, math.RoundToEven(r)))
}
