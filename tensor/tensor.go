package tensor

import (
	"fmt"
	"math"
	"unsafe"
)

// Tensor is a host tensor: dtype, shape and contiguous row-major bytes.
// A tensor with a zero in its shape is empty and has no bytes; a tensor with
// an empty shape is a scalar with one element.
type Tensor struct {
	dtype DataType
	shape []int64
	data  []byte
}

// Volume is the number of elements of a shape. It returns -1 if any
// dimension is negative or the product overflows int64.
func Volume(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		if d != 0 && n > math.MaxInt64/d {
			return -1
		}
		n *= d
	}
	return n
}

// maxElements bounds the size of any tensor trtc allocates from a shape it
// did not choose (a file header, an input): 2^40 elements.
const maxElements = int64(1) << 40

func checkShape(dt DataType, shape []int64) (int64, error) {
	if !dt.Valid() {
		return 0, fmt.Errorf("invalid data type %v", dt)
	}
	n := Volume(shape)
	if n < 0 {
		return 0, fmt.Errorf("invalid shape %v: dimensions must be non-negative and the volume must fit in int64", shapeFmt(shape))
	}
	if n > maxElements {
		return 0, fmt.Errorf("shape %v has %d elements, more than the limit of %d", shapeFmt(shape), n, maxElements)
	}
	return n, nil
}

// New returns a zero-filled tensor. It panics on a negative dimension, like
// make does; use FromBytes for shapes that come from untrusted input.
func New(dt DataType, shape ...int64) *Tensor {
	n, err := checkShape(dt, shape)
	if err != nil {
		panic("tensor.New: " + err.Error())
	}
	return &Tensor{dtype: dt, shape: append([]int64{}, shape...), data: make([]byte, dt.ByteSize(n))}
}

// FromBytes wraps data (not copied) as a tensor after checking its length.
// Data not aligned to the element size (a slice at an odd offset of a file
// buffer) is copied, because the typed accessors (Float32s, Int64s...)
// reinterpret the bytes in place.
func FromBytes(dt DataType, shape []int64, data []byte) (*Tensor, error) {
	n, err := checkShape(dt, shape)
	if err != nil {
		return nil, err
	}
	if want := dt.ByteSize(n); int64(len(data)) != want {
		return nil, fmt.Errorf("%v tensor of shape %v needs %d bytes, got %d", dt, shapeFmt(shape), want, len(data))
	}
	if size := uintptr(dt.Bits() / 8); size > 1 && len(data) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(data)))%size != 0 {
		data = append([]byte(nil), data...)
	}
	return &Tensor{dtype: dt, shape: append([]int64{}, shape...), data: data}, nil
}

// DType returns the element type.
func (t *Tensor) DType() DataType { return t.dtype }

// Shape returns a copy of the shape.
func (t *Tensor) Shape() []int64 { return append([]int64{}, t.shape...) }

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Dim returns dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int64 {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Len is the number of elements.
func (t *Tensor) Len() int64 { return Volume(t.shape) }

// Bytes returns the underlying bytes (not a copy).
func (t *Tensor) Bytes() []byte { return t.data }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{dtype: t.dtype, shape: t.Shape(), data: append([]byte{}, t.data...)}
}

// Reshape returns a tensor sharing t's bytes with a new shape of the same volume.
func (t *Tensor) Reshape(shape ...int64) (*Tensor, error) {
	if Volume(shape) != t.Len() {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", t.shape, t.Len(), shape)
	}
	return &Tensor{dtype: t.dtype, shape: append([]int64{}, shape...), data: t.data}, nil
}

func (t *Tensor) String() string {
	return fmt.Sprintf("Tensor(%v, %v)", t.dtype, t.shape)
}

// view reinterprets the bytes as a slice of E. The caller checks the dtype.
func view[E any](data []byte) []E {
	var zero E
	size := int(unsafe.Sizeof(zero))
	if len(data) == 0 {
		return nil
	}
	return unsafe.Slice((*E)(unsafe.Pointer(unsafe.SliceData(data))), len(data)/size)
}

func bytesOf[E any](s []E) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	var zero E
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

// Float32s returns the elements of a Float32 tensor as a slice aliasing its
// bytes. It panics for other types; use AsFloat32 to convert.
func (t *Tensor) Float32s() []float32 { t.must(Float32); return view[float32](t.data) }

// Int32s aliases an Int32 tensor's bytes.
func (t *Tensor) Int32s() []int32 { t.must(Int32); return view[int32](t.data) }

// Int64s aliases an Int64 tensor's bytes.
func (t *Tensor) Int64s() []int64 { t.must(Int64); return view[int64](t.data) }

func (t *Tensor) must(dt DataType) {
	if t.dtype != dt {
		panic(fmt.Sprintf("tensor: %v accessor used on a %v tensor", dt, t.dtype))
	}
}

// FromFloat32 builds a Float32 tensor that owns vals (not copied).
func FromFloat32(shape []int64, vals []float32) (*Tensor, error) {
	return FromBytes(Float32, shape, bytesOf(vals))
}

// FromInt32 builds an Int32 tensor that owns vals.
func FromInt32(shape []int64, vals []int32) (*Tensor, error) {
	return FromBytes(Int32, shape, bytesOf(vals))
}

// FromInt64 builds an Int64 tensor that owns vals.
func FromInt64(shape []int64, vals []int64) (*Tensor, error) {
	return FromBytes(Int64, shape, bytesOf(vals))
}

// FromBool builds a Bool tensor.
func FromBool(shape []int64, vals []bool) (*Tensor, error) {
	b := make([]byte, len(vals))
	for i, v := range vals {
		if v {
			b[i] = 1
		}
	}
	return FromBytes(Bool, shape, b)
}

// AsFloat32 returns the elements widened (or narrowed, for int64) to
// float32. For a Float32 tensor it returns the aliased slice, so callers must
// not write to it unless they own t.
func (t *Tensor) AsFloat32() []float32 {
	if t.dtype == Float32 {
		return t.Float32s()
	}
	n := t.Len()
	out := make([]float32, n)
	switch t.dtype {
	case Float16:
		src := view[uint16](t.data)
		for i := range out {
			out[i] = HalfToFloat32(src[i])
		}
	case BFloat16:
		src := view[uint16](t.data)
		for i := range out {
			out[i] = BFloat16ToFloat32(src[i])
		}
	case Int64:
		for i, v := range t.Int64s() {
			out[i] = float32(v) // directly: via float64 would round twice
		}
	default:
		for i := range out {
			out[i] = float32(t.Float64At(int64(i)))
		}
	}
	return out
}

// Float64s returns every element as float64 (exact for every type but int64
// beyond 2^53).
func (t *Tensor) Float64s() []float64 {
	n := t.Len()
	out := make([]float64, n)
	for i := range out {
		out[i] = t.Float64At(int64(i))
	}
	return out
}

// Int64Values returns every element as int64 (floats truncated toward zero, saturated).
func (t *Tensor) Int64Values() []int64 {
	if t.dtype == Int64 {
		return append([]int64{}, t.Int64s()...)
	}
	n := t.Len()
	out := make([]int64, n)
	for i := range out {
		out[i] = t.Int64At(int64(i))
	}
	return out
}

// Float64At reads element i (flat, row-major) as float64.
func (t *Tensor) Float64At(i int64) float64 {
	switch t.dtype {
	case Float32:
		return float64(math.Float32frombits(le32(t.data[4*i:])))
	case Float16:
		return float64(HalfToFloat32(le16(t.data[2*i:])))
	case BFloat16:
		return float64(BFloat16ToFloat32(le16(t.data[2*i:])))
	case FP8E4M3:
		return float64(FP8E4M3ToFloat32(t.data[i]))
	default:
		return float64(t.Int64At(i))
	}
}

// Int64At reads element i as int64; floats are truncated toward zero and saturated.
func (t *Tensor) Int64At(i int64) int64 {
	switch t.dtype {
	case Int8:
		return int64(int8(t.data[i]))
	case UInt8, Bool:
		return int64(t.data[i])
	case Int32:
		return int64(int32(le32(t.data[4*i:])))
	case Int64:
		return int64(le64(t.data[8*i:]))
	case Int4:
		b := t.data[i/2]
		if i%2 == 1 {
			b >>= 4
		}
		return int64(int8(b<<4) >> 4)
	default:
		return FloatToInt64(t.Float64At(i))
	}
}

// SetFloat64 stores v at element i, rounding to nearest even for float types
// and truncating toward zero with saturation for integer types (NaN stores 0);
// Bool stores v != 0.
func (t *Tensor) SetFloat64(i int64, v float64) {
	switch t.dtype {
	case Float32:
		put32(t.data[4*i:], math.Float32bits(float32(v)))
	case Float16:
		put16(t.data[2*i:], Float32ToHalf(float64ToFloat32Odd(v)))
	case BFloat16:
		put16(t.data[2*i:], Float32ToBFloat16(float64ToFloat32Odd(v)))
	case FP8E4M3:
		t.data[i] = Float32ToFP8E4M3(float64ToFloat32Odd(v))
	case Bool:
		if v != 0 {
			t.data[i] = 1
		} else {
			t.data[i] = 0
		}
	default:
		t.SetInt64(i, FloatToInt64(v))
	}
}

// SetInt64 stores v at element i, saturating to the type's range. Float types
// store the nearest representable value.
func (t *Tensor) SetInt64(i int64, v int64) {
	switch t.dtype {
	case Int8:
		t.data[i] = byte(int8(clampInt(v, math.MinInt8, math.MaxInt8)))
	case UInt8:
		t.data[i] = byte(clampInt(v, 0, math.MaxUint8))
	case Bool:
		if v != 0 {
			t.data[i] = 1
		} else {
			t.data[i] = 0
		}
	case Int32:
		put32(t.data[4*i:], uint32(int32(clampInt(v, math.MinInt32, math.MaxInt32))))
	case Int64:
		put64(t.data[8*i:], uint64(v))
	case Int4:
		nib := byte(clampInt(v, -8, 7)) & 0xF
		b := &t.data[i/2]
		if i%2 == 1 {
			*b = (*b & 0x0F) | nib<<4
		} else {
			*b = (*b & 0xF0) | nib
		}
	case Float32:
		put32(t.data[4*i:], math.Float32bits(float32(v))) // one correctly rounded step
	default:
		t.SetFloat64(i, int64ToFloat64Odd(v))
	}
}

// FromFloat64s builds a tensor of type dt from float64 values, rounding on
// store as SetFloat64 does.
func FromFloat64s(dt DataType, shape []int64, vals []float64) (*Tensor, error) {
	n, err := checkShape(dt, shape)
	if err != nil {
		return nil, err
	}
	if int64(len(vals)) != n {
		return nil, fmt.Errorf("shape %v needs %d values, got %d", shape, n, len(vals))
	}
	t := &Tensor{dtype: dt, shape: append([]int64{}, shape...), data: make([]byte, dt.ByteSize(n))}
	if dt == Float32 {
		dst := t.Float32s()
		for i, v := range vals {
			dst[i] = float32(v)
		}
		return t, nil
	}
	for i, v := range vals {
		t.SetFloat64(int64(i), v)
	}
	return t, nil
}

// FromFloat32s builds a tensor of type dt from float32 values, rounding on store.
func FromFloat32s(dt DataType, shape []int64, vals []float32) (*Tensor, error) {
	n, err := checkShape(dt, shape)
	if err != nil {
		return nil, err
	}
	if int64(len(vals)) != n {
		return nil, fmt.Errorf("shape %v needs %d values, got %d", shape, n, len(vals))
	}
	t := &Tensor{dtype: dt, shape: append([]int64{}, shape...), data: make([]byte, dt.ByteSize(n))}
	switch dt {
	case Float32:
		copy(t.Float32s(), vals)
	case Float16:
		dst := view[uint16](t.data)
		for i, v := range vals {
			dst[i] = Float32ToHalf(v)
		}
	case BFloat16:
		dst := view[uint16](t.data)
		for i, v := range vals {
			dst[i] = Float32ToBFloat16(v)
		}
	default:
		for i, v := range vals {
			t.SetFloat64(int64(i), float64(v))
		}
	}
	return t, nil
}

// FromInt64s builds a tensor of type dt from int64 values, saturating on store.
func FromInt64s(dt DataType, shape []int64, vals []int64) (*Tensor, error) {
	n, err := checkShape(dt, shape)
	if err != nil {
		return nil, err
	}
	if int64(len(vals)) != n {
		return nil, fmt.Errorf("shape %v needs %d values, got %d", shape, n, len(vals))
	}
	t := &Tensor{dtype: dt, shape: append([]int64{}, shape...), data: make([]byte, dt.ByteSize(n))}
	for i, v := range vals {
		t.SetInt64(int64(i), v)
	}
	return t, nil
}

// Convert returns t converted to dt (a clone when dt is t's type). Floats to
// integers truncate toward zero and saturate; anything to Bool tests != 0.
func (t *Tensor) Convert(dt DataType) (*Tensor, error) {
	if dt == t.dtype {
		return t.Clone(), nil
	}
	if !dt.Valid() {
		return nil, fmt.Errorf("invalid data type %v", dt)
	}
	n := t.Len()
	out := &Tensor{dtype: dt, shape: t.Shape(), data: make([]byte, dt.ByteSize(n))}
	if t.dtype.IsFloat() {
		if dt.IsFloat() {
			return FromFloat32s(dt, t.shape, t.AsFloat32())
		}
		for i := int64(0); i < n; i++ {
			out.SetFloat64(i, t.Float64At(i))
		}
		return out, nil
	}
	for i := int64(0); i < n; i++ {
		out.SetInt64(i, t.Int64At(i))
	}
	return out, nil
}

// FloatToInt64 truncates toward zero and saturates; NaN gives 0.
func FloatToInt64(v float64) int64 {
	switch {
	case v != v:
		return 0
	case v >= 9.223372036854775807e18:
		return math.MaxInt64
	case v <= -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(v)
}

func clampInt(v, lo, hi int64) int64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func le64(b []byte) uint64     { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }
func put16(b []byte, v uint16) { b[0] = byte(v); b[1] = byte(v >> 8) }
func put32(b []byte, v uint32) {
	b[0] = byte(v)
	b[1] = byte(v >> 8)
	b[2] = byte(v >> 16)
	b[3] = byte(v >> 24)
}
func put64(b []byte, v uint64) { put32(b, uint32(v)); put32(b[4:], uint32(v>>32)) }
