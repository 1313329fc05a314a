// Package nn is sugar for writing networks by hand: the building blocks of
// common models (Linear, Conv2d, BatchNorm, LayerNorm, MultiHeadAttention),
// each made only of dsl Add* calls, so what they build is exactly what the
// compiler and every target see.
//
// Weights use PyTorch's layouts (Linear: [out, in]; Conv2d: [out,
// in/groups, kh, kw]) so a state dict loads without transposes. Weights are
// converted to the input's type (a network is strongly typed, and an fp16
// network wants fp16 constants). Mistakes are recorded in the network's
// diagnostics with the caller's file:line, like any Add* call.
package nn

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// constant adds w as a Constant of the given dims, converted to dt.
func constant(net *dsl.Network, w dsl.Weights, dt dsl.DataType, dims dsl.Dims) *dsl.Tensor {
	return net.AddConstant(dims, convert(net, w, dt)).Output(0)
}

// convert returns w in type dt (the same weights when already dt).
func convert(net *dsl.Network, w dsl.Weights, dt dsl.DataType) dsl.Weights {
	if w.IsEmpty() || w.Type() == dt {
		return w
	}
	t, err := w.Tensor().Convert(dt)
	if err != nil {
		net.Errorf(diag.TypeMismatch, "cannot convert %v weights to %v: %v", w.Type(), dt, err)
		return w
	}
	return dsl.NewWeights(t)
}

// ones returns dims of n ones followed by tail.
func ones(n int, tail ...int64) dsl.Dims {
	d := make(dsl.Dims, 0, n+len(tail))
	for i := 0; i < n; i++ {
		d = append(d, 1)
	}
	return append(d, tail...)
}

// weightShape returns the shape of w's tensor, or nil when w is empty.
func weightShape(w dsl.Weights) []int64 {
	if w.Tensor() == nil {
		return nil
	}
	return w.Tensor().Shape()
}

// float32Weights wraps float32 values of the given shape.
func float32Weights(shape []int64, vals []float32) dsl.Weights {
	t, _ := tensor.FromFloat32(shape, vals)
	return dsl.NewWeights(t)
}
