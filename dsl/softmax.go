package dsl

import "github.com/trtc/trtc/diag"

// SoftMaxLayer computes softmax along one axis (TensorRT ISoftMaxLayer):
// out = exp(x - max) / sum(exp(x - max)) over that axis. The axis is a
// bitmask with exactly one bit set. Until SetAxes is called the axis is
// TensorRT's default: rank-3 for inputs of rank >= 3 (C of NCHW), else 0.
// Input and output have the same dims and float type; statistics are
// computed in float32 or wider.
type SoftMaxLayer struct {
	layerBase
	axes    uint32
	axesSet bool
}

// AddSoftMax adds a softmax layer on the default axis.
func (n *Network) AddSoftMax(in *Tensor) *SoftMaxLayer {
	l := &SoftMaxLayer{}
	n.addLayer(l, LayerSoftMax, 1, 1, in)
	return l
}

// Axes returns the axis bitmask: the one set with SetAxes, or the default
// for the input's current rank.
func (l *SoftMaxLayer) Axes() uint32 {
	if l.axesSet {
		return l.axes
	}
	in := l.Input(0)
	if in == nil {
		return 1
	}
	return softmaxDefaultAxes(in.Rank())
}

// SetAxes sets the softmax axis as a bitmask (1 << axis).
func (l *SoftMaxLayer) SetAxes(axes uint32) {
	l.axes, l.axesSet = axes, true
	l.changed()
}

func softmaxDefaultAxes(rank int) uint32 {
	if rank >= 3 {
		return 1 << uint(rank-3)
	}
	return 1
}

// SoftMaxAxis returns the axis of a softmax over an input of the given
// rank, checking that the mask names exactly one axis below rank.
func SoftMaxAxis(mask uint32, rank int) (int, error) {
	axes, err := AxesFromMask(mask, rank)
	if err != nil {
		return 0, err
	}
	if len(axes) != 1 {
		return 0, linalgErr("axes %s must name exactly one axis (TensorRT computes softmax along a single axis)", linalgMaskString(mask))
	}
	return axes[0], nil
}

func (l *SoftMaxLayer) infer(c *inferCtx) {
	in := c.in(0)
	if !linalgIsFloat(in.dtype) {
		c.errorf(diag.TypeMismatch, "input %q is %v; SoftMax takes Float32, Float16 or BFloat16", in.name, in.dtype)
		return
	}
	if len(in.dims) == 0 {
		c.errorf(diag.ShapeMismatch, "input %q is a scalar; SoftMax needs rank >= 1", in.name)
		return
	}
	mask := l.axes
	if !l.axesSet {
		mask = softmaxDefaultAxes(len(in.dims))
	}
	if _, err := SoftMaxAxis(mask, len(in.dims)); err != nil {
		c.errorf(diag.InvalidNode, "softmax of %q: %v", in.name, err)
		return
	}
	c.setOutput(0, in.dtype, in.dims)
}
