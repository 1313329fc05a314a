package tensor

import (
	"math"

	"github.com/x448/float16"
)

// HalfToFloat32 widens an IEEE binary16 bit pattern (exact).
func HalfToFloat32(h uint16) float32 { return float16.Frombits(h).Float32() }

// Float32ToHalf rounds to nearest even binary16 (overflow gives infinity, as
// a GPU's cvt.rn.f16.f32 does).
func Float32ToHalf(f float32) uint16 { return uint16(float16.Fromfloat32(f)) }

// BFloat16ToFloat32 widens a bfloat16 bit pattern (exact).
func BFloat16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// Float32ToBFloat16 rounds to nearest even, keeping NaN a (quiet) NaN.
//
// Written here rather than taken from a library: it is four lines, and the
// bfloat16 packages on the module proxy are unmaintained or truncate.
func Float32ToBFloat16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 { // NaN: keep sign, force a quiet NaN
		return uint16(u>>16) | 0x0040
	}
	rounding := uint32(0x7fff) + (u>>16)&1
	return uint16((u + rounding) >> 16)
}

// FP8E4M3ToFloat32 widens an OCP FP8 E4M3 (the "FN" variant TensorRT and
// Hopper use: bias 7, no infinities, S.1111.111 is NaN, max 448).
func FP8E4M3ToFloat32(b uint8) float32 {
	sign := float32(1)
	if b&0x80 != 0 {
		sign = -1
	}
	exp := int(b>>3) & 0xF
	man := float32(b & 0x7)
	switch {
	case exp == 0xF && b&0x7 == 0x7:
		return float32(math.NaN())
	case exp == 0:
		return sign * man / 8 * float32(math.Ldexp(1, -6))
	}
	return sign * (1 + man/8) * float32(math.Ldexp(1, exp-7))
}

// Float32ToFP8E4M3 rounds to nearest even and saturates to ±448, infinities
// included (the "satfinite" conversion of cvt.rn.satfinite.e4m3x2.f32); NaN
// gives 0x7F or 0xFF, keeping its sign.
func Float32ToFP8E4M3(f float32) uint8 {
	u := math.Float32bits(f)
	sign := uint8(u>>24) & 0x80
	a := math.Abs(float64(f))
	switch {
	case f != f:
		return sign | 0x7F
	case a >= 448:
		return sign | 0x7E
	case a < math.Ldexp(1, -10): // below half the smallest subnormal (2^-9): zero, ties to even
		return sign
	}
	// Scale to the spacing of the target binade and round to nearest even.
	e := math.Ilogb(a)
	if e < -6 {
		e = -6 // subnormal range has the spacing of 2^-9
	}
	q := a / math.Ldexp(1, e-3) // value in units of the last place
	r := math.RoundToEven(q)
	v := r * math.Ldexp(1, e-3)
	if v >= 448 {
		return sign | 0x7E
	}
	// Re-encode v, which is now exactly representable.
	if v < math.Ldexp(1, -6) {
		return sign | uint8(v/math.Ldexp(1, -9))
	}
	ev := math.Ilogb(v)
	man := uint8(math.Round((v/math.Ldexp(1, ev) - 1) * 8))
	return sign | uint8(ev+7)<<3 | man
}

// Narrowing float64 to float16, bfloat16 or FP8 through float32 would round
// twice, and the first rounding can create a false tie (1 + 2^-11 + 2^-40
// would become 1 in float16 instead of 1 + 2^-10). Rounding the first step
// to odd instead keeps a sticky bit, which makes the second, round-to-nearest
// step exact as long as float32 has two more bits than the target (it has
// 24 against at most 11).

// float64ToFloat32Odd rounds v to float32, to odd where it is inexact.
func float64ToFloat32Odd(v float64) float32 {
	f := float32(v)
	if float64(f) == v || v != v || math.IsInf(float64(f), 0) {
		return f
	}
	b := math.Float32bits(f)
	if b&1 == 0 { // the neighbour on the other side of v is odd
		if math.Abs(float64(f)) > math.Abs(v) {
			b--
		} else {
			b++
		}
	}
	return math.Float32frombits(b)
}

// int64ToFloat64Odd converts v to float64, rounding to odd where it is
// inexact (beyond 2^53), for the same reason.
func int64ToFloat64Odd(v int64) float64 {
	f := float64(v)
	if v > -1<<53 && v < 1<<53 {
		return f
	}
	if f >= 0x1p63 { // rounded up past MaxInt64: inexact, step back to the odd neighbour
		return math.Nextafter(f, 0)
	}
	fi := int64(f)
	if fi == v {
		return f
	}
	b := math.Float64bits(f)
	if b&1 == 0 {
		if (fi > v) == (v > 0) { // |f| > |v|
			b--
		} else {
			b++
		}
	}
	return math.Float64frombits(b)
}
