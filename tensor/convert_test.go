package tensor

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestInt4PackUnpack(t *testing.T) {
	x, err := FromInt64s(Int4, []int64{5}, []int64{1, -1, 7, -8, 3})
	if err != nil {
		t.Fatal(err)
	}
	// Low nibble first: [1 | -1<<4], [7 | -8<<4], [3].
	if want := []byte{0xF1, 0x87, 0x03}; !slices.Equal(x.Bytes(), want) {
		t.Fatalf("packed bytes = % x, want % x", x.Bytes(), want)
	}
	if got := x.Int64Values(); !slices.Equal(got, []int64{1, -1, 7, -8, 3}) {
		t.Fatalf("unpacked = %v", got)
	}
	sat, _ := FromInt64s(Int4, []int64{4}, []int64{100, -100, 8, -9})
	if got := sat.Int64Values(); !slices.Equal(got, []int64{7, -8, 7, -8}) {
		t.Fatalf("saturated = %v, want [7 -8 7 -8]", got)
	}
	// Setting one nibble leaves its neighbour alone.
	x.SetInt64(1, 2)
	if got := x.Int64Values(); !slices.Equal(got, []int64{1, 2, 7, -8, 3}) {
		t.Fatalf("after SetInt64(1, 2): %v", got)
	}
	if Int4.ByteSize(5) != 3 || Int4.ByteSize(0) != 0 {
		t.Fatal("Int4.ByteSize")
	}
	f, _ := FromFloat32s(Float32, []int64{4}, []float32{7.9, -9.5, -0.9, float32(math.NaN())})
	c, err := f.Convert(Int4)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Int64Values(); !slices.Equal(got, []int64{7, -8, 0, 0}) {
		t.Fatalf("float32 to int4 = %v, want [7 -8 0 0]", got)
	}
}

func TestConvertFloatToInt(t *testing.T) {
	nan := float32(math.NaN())
	in := []float32{1.9, -1.9, 300, -300, nan, 1e20, -1e20, float32(math.Inf(1)), -0.5}
	src, _ := FromFloat32([]int64{int64(len(in))}, in)
	want := map[DataType][]int64{
		Int8:  {1, -1, 127, -128, 0, 127, -128, 127, 0},
		UInt8: {1, 0, 255, 0, 0, 255, 0, 255, 0},
		Int32: {1, -1, 300, -300, 0, math.MaxInt32, math.MinInt32, math.MaxInt32, 0},
		Int64: {1, -1, 300, -300, 0, math.MaxInt64, math.MinInt64, math.MaxInt64, 0},
		Int4:  {1, -1, 7, -8, 0, 7, -8, 7, 0},
		Bool:  {1, 1, 1, 1, 1, 1, 1, 1, 1},
	}
	for dt, w := range want {
		c, err := src.Convert(dt)
		if err != nil {
			t.Fatal(err)
		}
		if c.DType() != dt || !slices.Equal(c.Shape(), src.Shape()) {
			t.Fatalf("Convert(%v) gave %v", dt, c)
		}
		if got := c.Int64Values(); !slices.Equal(got, w) {
			t.Errorf("float32 to %v = %v, want %v", dt, got, w)
		}
	}
	h, _ := FromFloat32s(Float16, []int64{3}, []float32{-2.75, 65504, float32(math.Inf(-1))})
	c, _ := h.Convert(Int32)
	if got := c.Int64Values(); !slices.Equal(got, []int64{-2, 65504, math.MinInt32}) {
		t.Errorf("float16 to int32 = %v", got)
	}
	z, _ := FromFloat32([]int64{2}, []float32{0, float32(math.Copysign(0, -1))})
	b, _ := z.Convert(Bool)
	if !slices.Equal(b.Bytes(), []byte{0, 0}) {
		t.Errorf("±0 to bool = %v, want [0 0]", b.Bytes())
	}
	if FloatToInt64(math.NaN()) != 0 || FloatToInt64(9.3e18) != math.MaxInt64 || FloatToInt64(-9.3e18) != math.MinInt64 || FloatToInt64(-2.5) != -2 {
		t.Error("FloatToInt64")
	}
}

func TestConvertIntAndBool(t *testing.T) {
	src, _ := FromInt64([]int64{5}, []int64{0, 5, -1, 1 << 40, -1 << 40})
	cases := map[DataType][]int64{
		Bool:  {0, 1, 1, 1, 1},
		Int8:  {0, 5, -1, 127, -128},
		UInt8: {0, 5, 0, 255, 0},
		Int32: {0, 5, -1, math.MaxInt32, math.MinInt32},
		Int4:  {0, 5, -1, 7, -8},
	}
	for dt, want := range cases {
		c, err := src.Convert(dt)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Int64Values(); !slices.Equal(got, want) {
			t.Errorf("int64 to %v = %v, want %v", dt, got, want)
		}
	}
	// int to float rounds to nearest even: 2049 is a tie in float16.
	i, _ := FromInt32([]int64{3}, []int32{2049, 2051, -7})
	h, _ := i.Convert(Float16)
	if got := h.AsFloat32(); !slices.Equal(got, []float32{2048, 2052, -7}) {
		t.Errorf("int32 to float16 = %v, want [2048 2052 -7]", got)
	}
	bl, _ := FromBool([]int64{3}, []bool{true, false, true})
	f, _ := bl.Convert(Float32)
	if got := f.Float32s(); !slices.Equal(got, []float32{1, 0, 1}) {
		t.Errorf("bool to float32 = %v", got)
	}
	u, _ := FromBytes(UInt8, []int64{2}, []byte{200, 255})
	i8, _ := u.Convert(Int8)
	if got := i8.Int64Values(); !slices.Equal(got, []int64{127, 127}) {
		t.Errorf("uint8 to int8 = %v, want saturation [127 127]", got)
	}
	// Same type: an independent copy.
	cl, _ := src.Convert(Int64)
	cl.Int64s()[0] = 9
	if src.Int64s()[0] != 0 {
		t.Error("Convert to the same type aliased the source")
	}
	if _, err := src.Convert(DataType(42)); err == nil {
		t.Error("Convert to an invalid type succeeded")
	}
}

func TestConvertFloatToFloat(t *testing.T) {
	f, _ := FromFloat32([]int64{2, 2}, []float32{1, 0.1, -65520, 1e-8})
	h, _ := f.Convert(Float16)
	if got := []uint16{le16(h.data), le16(h.data[2:]), le16(h.data[4:]), le16(h.data[6:])}; !slices.Equal(got, []uint16{0x3C00, 0x2E66, 0xFC00, 0x0000}) {
		t.Errorf("float32 to float16 = %#04x", got)
	}
	e, _ := f.Convert(FP8E4M3)
	if !slices.Equal(e.Bytes(), []byte{0x38, 0x1D, 0xFE, 0x00}) {
		t.Errorf("float32 to fp8 = % x", e.Bytes())
	}
	back, _ := e.Convert(Float32)
	if got := back.Float32s(); !slices.Equal(got, []float32{1, 0.1015625, -448, 0}) {
		t.Errorf("fp8 to float32 = %v", got)
	}
}

func TestShapesAndErrors(t *testing.T) {
	if Volume([]int64{1 << 32, 1 << 32}) != -1 {
		t.Error("Volume overflow should be -1")
	}
	if Volume([]int64{3, -1}) != -1 {
		t.Error("Volume with a negative dim should be -1")
	}
	if Volume(nil) != 1 || Volume([]int64{4, 0, 1 << 62}) != 0 {
		t.Error("Volume of a scalar is 1, of an empty shape 0")
	}
	if _, err := FromBytes(Float32, []int64{2, 3}, make([]byte, 23)); err == nil || !strings.Contains(err.Error(), "needs 24 bytes, got 23") {
		t.Errorf("FromBytes short: %v", err)
	}
	if _, err := FromBytes(Int4, []int64{3}, make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "needs 2 bytes") {
		t.Errorf("FromBytes int4: %v", err)
	}
	if _, err := FromBytes(Float32, []int64{-2}, nil); err == nil || !strings.Contains(err.Error(), "non-negative") {
		t.Errorf("FromBytes negative dim: %v", err)
	}
	if _, err := FromBytes(UInt8, []int64{1 << 41}, nil); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("FromBytes huge: %v", err)
	}
	if _, err := FromBytes(DataType(-1), nil, nil); err == nil {
		t.Error("FromBytes with an invalid type succeeded")
	}
	if _, err := FromFloat64s(Float32, []int64{2}, []float64{1}); err == nil {
		t.Error("FromFloat64s with too few values succeeded")
	}
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("New with a negative dim did not panic")
			}
		}()
		New(Float32, 2, -1)
	}()
	s := New(Int32)
	if s.Len() != 1 || s.Rank() != 0 || len(s.Bytes()) != 4 {
		t.Errorf("scalar: %v, %d bytes", s, len(s.Bytes()))
	}
	e := New(Float16, 3, 0)
	if e.Len() != 0 || len(e.Bytes()) != 0 || e.Dim(-1) != 0 || e.Dim(0) != 3 {
		t.Errorf("empty: %v", e)
	}
	if len(e.AsFloat32()) != 0 {
		t.Error("empty AsFloat32")
	}
	r, err := New(Float32, 2, 3).Reshape(3, 2)
	if err != nil || !slices.Equal(r.Shape(), []int64{3, 2}) {
		t.Errorf("Reshape: %v %v", r, err)
	}
	if _, err := r.Reshape(4); err == nil {
		t.Error("Reshape to a different volume succeeded")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Int32s on a Float32 tensor did not panic")
			}
		}()
		r.Int32s()
	}()
}

func TestParseDataType(t *testing.T) {
	for _, dt := range AllTypes {
		got, err := ParseDataType(dt.String())
		if err != nil || got != dt {
			t.Errorf("ParseDataType(%q) = %v, %v", dt.String(), got, err)
		}
	}
	for s, want := range map[string]DataType{"fp32": Float32, "half": Float16, "bf16": BFloat16, "e4m3": FP8E4M3} {
		if got, _ := ParseDataType(s); got != want {
			t.Errorf("ParseDataType(%q) = %v", s, got)
		}
	}
	if _, err := ParseDataType("float64"); err == nil {
		t.Error("ParseDataType(float64) succeeded")
	}
	if DataType(99).String() != "DataType(99)" || DataType(99).Valid() {
		t.Error("invalid type")
	}
}

// TestFromBytesMisaligned: bytes at an odd offset are copied so that the
// typed accessors see aligned elements (checked by -race's checkptr).
func TestFromBytesMisaligned(t *testing.T) {
	buf := make([]byte, 17)
	buf[1], buf[2], buf[3], buf[4] = 0x00, 0x00, 0x80, 0x3F
	x, err := FromBytes(Float32, []int64{2, 2}, buf[1:17])
	if err != nil {
		t.Fatal(err)
	}
	if got := x.Float32s()[0]; got != 1 {
		t.Fatalf("element 0 = %v", got)
	}
	i, _ := FromBytes(Int64, []int64{2}, buf[1:17])
	if i.Int64s()[0] != 0x3F800000 {
		t.Errorf("int64 = %#x", i.Int64s()[0])
	}
	y, _ := FromBytes(Float32, []int64{2}, buf[8:16])
	buf[8] = 1
	if y.Bytes()[0] != 1 {
		t.Error("aligned bytes were copied; FromBytes should wrap them")
	}
}

func TestDataTypeProperties(t *testing.T) {
	bits := map[DataType]int{Float32: 32, Float16: 16, BFloat16: 16, FP8E4M3: 8, Int8: 8, UInt8: 8, Int32: 32, Int64: 64, Bool: 8, Int4: 4}
	for _, dt := range AllTypes {
		if dt.Bits() != bits[dt] {
			t.Errorf("%v.Bits() = %d, want %d", dt, dt.Bits(), bits[dt])
		}
		isFloat := dt == Float32 || dt == Float16 || dt == BFloat16 || dt == FP8E4M3
		if dt.IsFloat() != isFloat || dt.IsInteger() != (!isFloat && dt != Bool) {
			t.Errorf("%v: IsFloat %v IsInteger %v", dt, dt.IsFloat(), dt.IsInteger())
		}
	}
	if DataType(99).Bits() != 0 {
		t.Error("invalid type has bits")
	}
	if s := New(Float16, 2, 3).String(); s != "Tensor(float16, [2 3])" {
		t.Errorf("String() = %q", s)
	}
}

func TestShapeFmt(t *testing.T) {
	if s := shapeFmt([]int64{2, 3}).String(); s != "[2 3]" {
		t.Errorf("%q", s)
	}
	long := make([]int64, 40)
	if s := shapeFmt(long).String(); s != "[0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 ... (40 dims)]" {
		t.Errorf("%q", s)
	}
}
