package dsl

import "github.com/trtc/trtc/tensor"

// Weights are constant values handed to a layer (TensorRT's Weights: a type,
// a count and the values). They carry a host tensor, so they also know a
// shape; layers that take weights check the count they need. The zero value
// is "no weights" (for example, a convolution without bias).
type Weights struct {
	t *tensor.Tensor
}

// NewWeights wraps a host tensor.
func NewWeights(t *tensor.Tensor) Weights { return Weights{t: t} }

// Float32Weights wraps float32 values as a 1-D Float32 tensor.
func Float32Weights(vals ...float32) Weights {
	t, _ := tensor.FromFloat32([]int64{int64(len(vals))}, append([]float32{}, vals...))
	return Weights{t: t}
}

// Int64Weights wraps int64 values as a 1-D Int64 tensor.
func Int64Weights(vals ...int64) Weights {
	t, _ := tensor.FromInt64([]int64{int64(len(vals))}, append([]int64{}, vals...))
	return Weights{t: t}
}

// Int32Weights wraps int32 values as a 1-D Int32 tensor.
func Int32Weights(vals ...int32) Weights {
	t, _ := tensor.FromInt32([]int64{int64(len(vals))}, append([]int32{}, vals...))
	return Weights{t: t}
}

// IsEmpty reports whether there are no weights.
func (w Weights) IsEmpty() bool { return w.t == nil || w.t.Len() == 0 }

// Count is the number of values.
func (w Weights) Count() int64 {
	if w.t == nil {
		return 0
	}
	return w.t.Len()
}

// Type is the element type (Float32 for empty weights).
func (w Weights) Type() DataType {
	if w.t == nil {
		return Float32
	}
	return w.t.DType()
}

// Tensor returns the host tensor holding the values (nil when empty).
func (w Weights) Tensor() *tensor.Tensor { return w.t }
