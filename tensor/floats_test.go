package tensor

import (
	"math"
	"math/rand"
	"sort"
	"testing"
)

// refHalf decodes a binary16 bit pattern from the IEEE 754 definition,
// independently of HalfToFloat32.
func refHalf(h uint16) float64 {
	s := 1.0
	if h&0x8000 != 0 {
		s = -1
	}
	e := int(h>>10) & 0x1F
	m := float64(h & 0x3FF)
	switch {
	case e == 0x1F && m == 0:
		return s * math.Inf(1)
	case e == 0x1F:
		return math.NaN()
	case e == 0:
		return s * math.Ldexp(m, -24)
	}
	return s * math.Ldexp(1024+m, e-25)
}

// refFP8 decodes an OCP FP8 E4M3FN bit pattern: bias 7, subnormals m*2^-9,
// S.1111.111 NaN, no infinities.
func refFP8(b uint8) float64 {
	s := 1.0
	if b&0x80 != 0 {
		s = -1
	}
	e := int(b>>3) & 0xF
	m := float64(b & 7)
	switch {
	case e == 15 && m == 7:
		return math.NaN()
	case e == 0:
		return s * math.Ldexp(m, -9)
	}
	return s * math.Ldexp(8+m, e-10)
}

// nearestEven returns the index in vals (sorted ascending, codes with the
// same parity as their index) nearest to x, ties to the even index.
func nearestEven(vals []float64, x float64) int {
	i := sort.SearchFloat64s(vals, x) // vals[i-1] < x <= vals[i]
	if i == len(vals) {
		return i - 1
	}
	if i == 0 || vals[i] == x {
		return i
	}
	lo, hi := x-vals[i-1], vals[i]-x
	switch {
	case lo < hi:
		return i - 1
	case hi < lo:
		return i
	}
	if i%2 == 0 {
		return i
	}
	return i - 1
}

func TestHalfDecodeAll(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		got, want := float64(HalfToFloat32(uint16(h))), refHalf(uint16(h))
		if math.IsNaN(want) {
			if !math.IsNaN(got) {
				t.Fatalf("HalfToFloat32(%#04x) = %v, want NaN", h, got)
			}
			continue
		}
		if got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("HalfToFloat32(%#04x) = %v, want %v", h, got, want)
		}
	}
}

func TestFloat32ToHalfCases(t *testing.T) {
	cases := []struct {
		in   float64
		want uint16
	}{
		{1, 0x3C00},
		{-2, 0xC000},
		{0.333251953125, 0x3555},
		{1 + 0x1p-11, 0x3C00},           // tie between 0x3C00 and 0x3C01: even
		{1 + 3*0x1p-11, 0x3C02},         // tie between 0x3C01 and 0x3C02: even
		{1 + 0x1p-11 + 0x1p-20, 0x3C01}, // just above the tie
		{1 + 0x1p-11 - 0x1p-20, 0x3C00}, // just below the tie
		{65504, 0x7BFF},                 // max
		{65519, 0x7BFF},                 // below the overflow midpoint
		{65520, 0x7C00},                 // the midpoint rounds to even: overflow
		{1e6, 0x7C00},
		{-1e6, 0xFC00},
		{math.Inf(-1), 0xFC00},
		{0x1p-14, 0x0400},              // smallest normal
		{1023 * 0x1p-24, 0x03FF},       // largest subnormal
		{0x1p-24, 0x0001},              // smallest subnormal
		{-0x1p-24, 0x8001},             // negative subnormal
		{0x1p-25, 0x0000},              // half the smallest subnormal: tie to 0
		{0x1p-25 + 0x1p-35, 0x0001},    // just above: rounds up
		{3 * 0x1p-25, 0x0002},          // tie between 1 and 2 units: even
		{5 * 0x1p-25, 0x0002},          // tie between 2 and 3 units: even
		{0x1p-14 - 0x1p-25, 0x0400},    // tie between largest subnormal and smallest normal
		{0x1p-30, 0x0000},              // underflow
		{-0x1p-30, 0x8000},             // underflow keeps the sign
		{math.Copysign(0, -1), 0x8000}, // -0
	}
	for _, c := range cases {
		if got := Float32ToHalf(float32(c.in)); got != c.want {
			t.Errorf("Float32ToHalf(%g) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if h := Float32ToHalf(float32(math.NaN())); h&0x7C00 != 0x7C00 || h&0x3FF == 0 {
		t.Errorf("Float32ToHalf(NaN) = %#04x, not a NaN", h)
	}
}

// TestFloat32ToHalfNearest compares Float32ToHalf with a search for the
// nearest binary16 value over random float32 inputs of every magnitude.
func TestFloat32ToHalfNearest(t *testing.T) {
	var vals []float64 // finite non-negative halves, code i at index i
	for h := 0; h <= 0x7BFF; h++ {
		vals = append(vals, refHalf(uint16(h)))
	}
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 200000; n++ {
		x := math.Float32frombits(rng.Uint32())
		if x != x || math.IsInf(float64(x), 0) {
			continue
		}
		a := math.Abs(float64(x))
		var want uint16
		if a >= 65520 {
			want = 0x7C00
		} else {
			want = uint16(nearestEven(vals, a))
		}
		if x < 0 || (x == 0 && math.Signbit(float64(x))) {
			want |= 0x8000
		}
		if got := Float32ToHalf(x); got != want {
			t.Fatalf("Float32ToHalf(%g) = %#04x, want %#04x", x, got, want)
		}
	}
}

func TestBFloat16(t *testing.T) {
	cases := []struct {
		in   uint32
		want uint16
	}{
		{0x3F800000, 0x3F80},
		{0x3F808000, 0x3F80}, // tie, 0x3F80 is even
		{0x3F818000, 0x3F82}, // tie, 0x3F82 is even
		{0x3F808001, 0x3F81}, // above the tie
		{0x3F807FFF, 0x3F80}, // below the tie
		{0xBF818000, 0xBF82}, // negative tie
		{0x7F7FFFFF, 0x7F80}, // max float32 rounds up to infinity
		{0x7F800000, 0x7F80}, // +inf
		{0xFF800000, 0xFF80}, // -inf
		{0x00000001, 0x0000}, // tiny to +0
		{0x80000001, 0x8000}, // tiny to -0
	}
	for _, c := range cases {
		if got := Float32ToBFloat16(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("Float32ToBFloat16(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	// NaNs whose payload is only in the dropped bits must stay NaN, not become inf.
	for _, nan := range []uint32{0x7F800001, 0xFF800001, 0x7FC00000, 0x7FFFFFFF} {
		got := Float32ToBFloat16(math.Float32frombits(nan))
		if f := BFloat16ToFloat32(got); !math.IsNaN(float64(f)) {
			t.Errorf("Float32ToBFloat16(NaN %#08x) = %#04x, not a NaN", nan, got)
		}
		if got&0x8000 != uint16(nan>>16)&0x8000 {
			t.Errorf("Float32ToBFloat16(NaN %#08x) = %#04x lost the sign", nan, got)
		}
	}
	for b := 0; b < 1<<16; b++ {
		f := BFloat16ToFloat32(uint16(b))
		if math.Float32bits(f) != uint32(b)<<16 {
			t.Fatalf("BFloat16ToFloat32(%#04x) = %#08x", b, math.Float32bits(f))
		}
		if !math.IsNaN(float64(f)) && Float32ToBFloat16(f) != uint16(b) {
			t.Fatalf("Float32ToBFloat16(BFloat16ToFloat32(%#04x)) = %#04x", b, Float32ToBFloat16(f))
		}
	}
}

func TestFP8DecodeAll(t *testing.T) {
	for b := 0; b < 256; b++ {
		got, want := float64(FP8E4M3ToFloat32(uint8(b))), refFP8(uint8(b))
		if math.IsNaN(want) {
			if !math.IsNaN(got) {
				t.Errorf("FP8E4M3ToFloat32(%#02x) = %v, want NaN", b, got)
			}
			continue
		}
		if got != want || math.Signbit(got) != math.Signbit(want) {
			t.Errorf("FP8E4M3ToFloat32(%#02x) = %v, want %v", b, got, want)
		}
	}
	if refFP8(0x7E) != 448 || refFP8(0x01) != 0x1p-9 || refFP8(0x08) != 0x1p-6 {
		t.Fatal("reference decoder is wrong")
	}
}

func TestFP8EncodeRoundTrip(t *testing.T) {
	for b := 0; b < 256; b++ {
		if b&0x7F == 0x7F {
			continue
		}
		if got := Float32ToFP8E4M3(FP8E4M3ToFloat32(uint8(b))); got != uint8(b) {
			t.Errorf("encode(decode(%#02x)) = %#02x", b, got)
		}
	}
}

// TestFP8Ties checks every midpoint between neighbouring positive codes
// (exact in float32) and the values just around it.
func TestFP8Ties(t *testing.T) {
	for b := 0; b < 0x7E; b++ {
		lo, hi := refFP8(uint8(b)), refFP8(uint8(b+1))
		mid := (lo + hi) / 2
		even := uint8(b)
		if b%2 == 1 {
			even = uint8(b + 1)
		}
		eps := (hi - lo) / 64
		for _, sign := range []float64{1, -1} {
			s := uint8(0)
			if sign < 0 {
				s = 0x80
			}
			check := func(x float64, want uint8) {
				if got := Float32ToFP8E4M3(float32(sign * x)); got != want|s {
					t.Errorf("Float32ToFP8E4M3(%g) = %#02x, want %#02x", sign*x, got, want|s)
				}
			}
			check(mid, even)
			check(mid-eps, uint8(b))
			check(mid+eps, uint8(b+1))
		}
	}
}

func TestFP8Special(t *testing.T) {
	cases := []struct {
		in   float64
		want uint8
	}{
		{448, 0x7E},
		{449, 0x7E},
		{464, 0x7E}, // would be the midpoint to 480: saturates
		{500, 0x7E},
		{1e30, 0x7E},
		{math.Inf(1), 0x7E},
		{-448, 0xFE},
		{-1e30, 0xFE},
		{math.Inf(-1), 0xFE},
		{0x1p-10, 0x00}, // half the smallest subnormal: tie to zero
		{0x1p-10 + 0x1p-20, 0x01},
		{-0x1p-10, 0x80},
		{0x1p-11, 0x00},
		{1e-30, 0x00},
		{-1e-30, 0x80},
		{0x1p-149, 0x00},
		{0, 0x00},
		{math.Copysign(0, -1), 0x80},
		{0x1p-6, 0x08},       // smallest normal
		{7 * 0x1p-9, 0x07},   // largest subnormal
		{7.5 * 0x1p-9, 0x08}, // tie across the subnormal/normal edge: even
		{15.5, 0x58},         // tie between 15 (0x57) and 16 (0x58): even
		{240, 0x77},          // binade edge: 2^7 * 1.875
		{248, 0x78},          // tie between 240 (0x77) and 256 (0x78)
		{1, 0x38},            // exponent 7
		{-1.0625, 0xB8},      // tie between 1 and 1.125: even
		{1.05, 0x38},
		{1.07, 0x39},
	}
	for _, c := range cases {
		if got := Float32ToFP8E4M3(float32(c.in)); got != c.want {
			t.Errorf("Float32ToFP8E4M3(%g) = %#02x, want %#02x", c.in, got, c.want)
		}
	}
	if got := Float32ToFP8E4M3(float32(math.NaN())); got != 0x7F {
		t.Errorf("Float32ToFP8E4M3(NaN) = %#02x, want 0x7f", got)
	}
	if got := Float32ToFP8E4M3(math.Float32frombits(0xFFC00000)); got != 0xFF {
		t.Errorf("Float32ToFP8E4M3(-NaN) = %#02x, want 0xff", got)
	}
}

// TestFP8Nearest compares the encoder with a search over all 127
// non-negative finite codes for random float32 inputs.
func TestFP8Nearest(t *testing.T) {
	var vals []float64
	for b := 0; b <= 0x7E; b++ {
		vals = append(vals, refFP8(uint8(b)))
	}
	rng := rand.New(rand.NewSource(2))
	for n := 0; n < 200000; n++ {
		// Exponents from 2^-14 to 2^10 cover underflow, subnormals and saturation.
		x := float32(math.Ldexp(rng.Float64()+0.5, rng.Intn(25)-14))
		if n%2 == 1 {
			x = -x
		}
		want := uint8(nearestEven(vals, math.Abs(float64(x))))
		if x < 0 {
			want |= 0x80
		}
		if got := Float32ToFP8E4M3(x); got != want {
			t.Fatalf("Float32ToFP8E4M3(%g) = %#02x, want %#02x", x, got, want)
		}
	}
}

// TestNarrowFromFloat64 checks that float64 values are rounded once, not
// twice through float32.
func TestNarrowFromFloat64(t *testing.T) {
	h, _ := FromFloat64s(Float16, []int64{3}, []float64{1 + 0x1p-11 + 0x1p-40, 1 + 0x1p-11 - 0x1p-40, 1 + 0x1p-11})
	if got := []uint16{le16(h.data), le16(h.data[2:]), le16(h.data[4:])}; got[0] != 0x3C01 || got[1] != 0x3C00 || got[2] != 0x3C00 {
		t.Errorf("float64 to float16 = %#04x, want [0x3c01 0x3c00 0x3c00]", got)
	}
	b, _ := FromFloat64s(BFloat16, []int64{1}, []float64{1 + 0x1p-8 + 0x1p-40})
	if got := le16(b.data); got != 0x3F81 {
		t.Errorf("float64 to bfloat16 = %#04x, want 0x3f81", got)
	}
	f, _ := FromFloat64s(FP8E4M3, []int64{1}, []float64{1.0625 + 0x1p-40})
	if got := f.data[0]; got != 0x39 {
		t.Errorf("float64 to fp8 = %#02x, want 0x39", got)
	}
	// int64 beyond 2^53: 2^60 + 2^52 + 1 lies just above the bfloat16
	// midpoint 2^60 + 2^52; via float64 it would become the tie itself.
	i, _ := FromInt64s(BFloat16, []int64{1}, []int64{1<<60 + 1<<52 + 1})
	if got := le16(i.data); got != 0x5D81 {
		t.Errorf("int64 to bfloat16 = %#04x, want 0x5d81", got)
	}
	// int64 to float32: 2^60 + 2^36 + 1 is just above the float32 midpoint.
	i32, _ := FromInt64s(Float32, []int64{1}, []int64{1<<60 + 1<<36 + 1})
	if got, want := i32.Float32s()[0], float32(0x1p60+0x1p37); got != want {
		t.Errorf("int64 to float32 = %v, want %v", got, want)
	}
	i64, _ := FromInt64(nil, []int64{1<<60 + 1<<36 + 1})
	if got, want := i64.AsFloat32()[0], float32(0x1p60+0x1p37); got != want {
		t.Errorf("AsFloat32 of int64 = %v, want %v", got, want)
	}
	// Odd-rounding helpers on their own.
	if got := int64ToFloat64Odd(math.MaxInt64); got != math.Nextafter(0x1p63, 0) {
		t.Errorf("int64ToFloat64Odd(MaxInt64) = %v", got)
	}
	if got := int64ToFloat64Odd(math.MinInt64); got != -0x1p63 {
		t.Errorf("int64ToFloat64Odd(MinInt64) = %v", got)
	}
	if got := int64ToFloat64Odd(-(1<<60 + 1)); got != -(0x1p60 + 0x1p8) {
		t.Errorf("int64ToFloat64Odd(-(2^60+1)) = %v, want -(2^60+2^8)", got)
	}
	if got := float64ToFloat32Odd(-0x1p-160); math.Float32bits(got) != 0x80000001 {
		t.Errorf("float64ToFloat32Odd(-2^-160) = %#08x, want 0x80000001", math.Float32bits(got))
	}
}
