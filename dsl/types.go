package dsl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/trtc/trtc/tensor"
)

// DataType is a tensor element type; the values are TensorRT's.
type DataType = tensor.DataType

// The element types, re-exported so network code needs only this package.
const (
	Float32  = tensor.Float32
	Float16  = tensor.Float16
	BFloat16 = tensor.BFloat16
	FP8E4M3  = tensor.FP8E4M3
	Int8     = tensor.Int8
	UInt8    = tensor.UInt8
	Int32    = tensor.Int32
	Int64    = tensor.Int64
	Bool     = tensor.Bool
	Int4     = tensor.Int4
)

// Dims is a tensor shape. A dimension of -1 is dynamic: its value is known
// only at run time (TensorRT's convention). A nil Dims is "unknown rank" and
// only appears on tensors whose producer failed to infer.
type Dims []int64

// Dynamic marks a dimension whose size is known only at run time.
const Dynamic = int64(-1)

// Rank is the number of dimensions.
func (d Dims) Rank() int { return len(d) }

// IsStatic reports whether every dimension is known.
func (d Dims) IsStatic() bool {
	for _, v := range d {
		if v < 0 {
			return false
		}
	}
	return true
}

// Volume is the element count, or -1 when a dimension is dynamic.
func (d Dims) Volume() int64 {
	if !d.IsStatic() {
		return -1
	}
	return tensor.Volume(d)
}

// Clone returns a copy.
func (d Dims) Clone() Dims {
	if d == nil {
		return nil
	}
	return append(Dims{}, d...)
}

// Equal reports whether two dims are identical (dynamic dims compare equal
// to each other only).
func (d Dims) Equal(o Dims) bool {
	if len(d) != len(o) {
		return false
	}
	for i := range d {
		if d[i] != o[i] {
			return false
		}
	}
	return true
}

// String formats dims the way trtexec does: 1x3x224x224, with -1 for dynamic
// and "scalar" for rank 0.
func (d Dims) String() string {
	if len(d) == 0 {
		return "scalar"
	}
	parts := make([]string, len(d))
	for i, v := range d {
		parts[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(parts, "x")
}

// ParseDims parses the String form (1x3x224x224, -1 for dynamic, "scalar").
func ParseDims(s string) (Dims, error) {
	if s == "scalar" || s == "" {
		return Dims{}, nil
	}
	parts := strings.Split(s, "x")
	d := make(Dims, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < -1 {
			return nil, fmt.Errorf("bad dimension %q in %q: want a non-negative integer or -1", p, s)
		}
		d[i] = v
	}
	return d, nil
}

// normAxis turns a possibly negative axis into [0, rank), or returns false.
func normAxis(axis, rank int) (int, bool) {
	if axis < 0 {
		axis += rank
	}
	return axis, axis >= 0 && axis < rank
}

// NormalizeAxis turns a possibly negative axis into [0, rank), reporting
// whether it was in range. Exported for targets and importers.
func NormalizeAxis(axis, rank int) (int, bool) { return normAxis(axis, rank) }

// BroadcastDims combines two equal-rank shapes the way TensorRT's
// elementwise layers do: equal dims stay, a 1 stretches to the other side.
// A dynamic dim against n>1 gives n (the runtime must then supply n or 1).
// The error names the first axis that cannot broadcast.
func BroadcastDims(a, b Dims) (Dims, error) {
	if len(a) != len(b) {
		return nil, fmt.Errorf("ranks differ: %v has rank %d, %v has rank %d (TensorRT broadcasts only between equal ranks; insert a Shuffle or Unsqueeze)", a, len(a), b, len(b))
	}
	out := make(Dims, len(a))
	for i := range a {
		x, y := a[i], b[i]
		switch {
		case x == y:
			out[i] = x
		case x == 1:
			out[i] = y
		case y == 1:
			out[i] = x
		case x < 0:
			out[i] = y
		case y < 0:
			out[i] = x
		default:
			return nil, fmt.Errorf("dimension %d: %d and %d cannot broadcast (%v vs %v)", i, x, y, a, b)
		}
	}
	return out, nil
}
