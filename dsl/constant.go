package dsl

import (
	"github.com/trtc/trtc/diag"
)

// constantMaxKnown is the largest Int32/Int64 constant whose values are
// recorded for build-time shape inference (shape tensors are small).
const constantMaxKnown = 64

// ConstantLayer outputs a tensor of weights (TensorRT IConstantLayer). The
// output type is the weights' type and its dims are the layer's dims, which
// must be static and hold exactly Count() values. As in TensorRT, Bool and
// UInt8 weights are not supported: use Int32 weights and a Cast layer.
type ConstantLayer struct {
	layerBase
	dims Dims
	w    Weights
}

// AddConstant adds a constant layer.
func (n *Network) AddConstant(dims Dims, w Weights) *ConstantLayer {
	l := &ConstantLayer{dims: dims.Clone(), w: w}
	n.addLayer(l, LayerConstant, 1, 0)
	return l
}

func (l *ConstantLayer) Weights() Weights { return l.w }
func (l *ConstantLayer) SetWeights(w Weights) {
	l.w = w
	l.changed()
}
func (l *ConstantLayer) Dimensions() Dims { return l.dims.Clone() }
func (l *ConstantLayer) SetDimensions(d Dims) {
	l.dims = d.Clone()
	l.changed()
}

func (l *ConstantLayer) infer(c *inferCtx) {
	for i, v := range l.dims {
		if v < 0 {
			c.errorf(diag.ShapeMismatch, "constant dims %v: dimension %d is %d; a constant's dims must be static (>= 0)", l.dims, i, v)
			return
		}
	}
	vol := l.dims.Volume()
	if vol < 0 {
		c.errorf(diag.ShapeMismatch, "constant dims %v: the volume overflows int64", l.dims)
		return
	}
	if vol != l.w.Count() {
		c.errorf(diag.ShapeMismatch, "constant dims %v hold %d values but the weights have %d", l.dims, vol, l.w.Count())
		return
	}
	dt := l.w.Type()
	if dt == Bool || dt == UInt8 {
		c.errorf(diag.TypeMismatch, "constant weights of type %v are not supported (TensorRT IConstantLayer); use Int32 weights and a Cast layer", dt)
		return
	}
	c.setOutput(0, dt, l.dims)
	if (dt == Int32 || dt == Int64) && vol <= constantMaxKnown {
		c.setValues(0, l.w.Tensor().Int64Values())
	}
}
