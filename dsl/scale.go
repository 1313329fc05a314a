package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// ScaleMode says how a ScaleLayer's coefficients map to elements; values
// are TensorRT's nvinfer1::ScaleMode.
type ScaleMode int

const (
	ScaleUniform     ScaleMode = iota // one coefficient for the whole tensor
	ScaleChannel                      // one per index of the channel axis
	ScaleElementwise                  // one per element of the dims from the channel axis on
	numScaleModes
)

var scaleModeNames = [...]string{"Uniform", "Channel", "Elementwise"}

var _ = [1]struct{}{}[len(scaleModeNames)-int(numScaleModes)]

func (m ScaleMode) String() string {
	if m >= 0 && m < numScaleModes {
		return scaleModeNames[m]
	}
	return fmt.Sprintf("ScaleMode(%d)", int(m))
}

// AllScaleModes lists every scale mode.
func AllScaleModes() []ScaleMode {
	out := make([]ScaleMode, numScaleModes)
	for i := range out {
		out[i] = ScaleMode(i)
	}
	return out
}

// ScaleLayer computes (x*scale + shift)^power per tensor, per channel or
// per element (TensorRT IScaleLayer). Empty weights take the defaults shift
// 0, scale 1, power 1. Non-empty weights hold 1 value (Uniform), dims[c]
// values (Channel) or the product of dims[c:] values (Elementwise), where
// c is the channel axis.
//
// The input is Float32, Float16 or BFloat16 with rank >= 4 (TensorRT
// requires at least 4 dims). Each set of weights is either the input's
// type (what a strongly typed TensorRT network asks for) or Float32: the
// kernel computes in float32 anyway, so Float32 weights on a Float16 input
// lose nothing and spare callers a conversion. TensorRT's use of Scale as
// an INT8 quantizer is not available: networks are strongly typed, so use
// a Quantize layer.
type ScaleLayer struct {
	layerBase
	mode                ScaleMode
	shift, scale, power Weights
	channelAxis         int
	// axisFromRank is set by AddScale: the channel axis is rank-3 (the
	// header's "last three dimensions" for Elementwise, axis 1 of NCHW)
	// until SetChannelAxis picks one.
	axisFromRank bool
}

// AddScale adds a scale layer whose channel axis is rank-3, the third dim
// from the end (1 for NCHW inputs).
func (n *Network) AddScale(in *Tensor, mode ScaleMode, shift, scale, power Weights) *ScaleLayer {
	l := &ScaleLayer{mode: mode, shift: shift, scale: scale, power: power, axisFromRank: true}
	n.addLayer(l, LayerScale, 1, 1, in)
	return l
}

// AddScaleNd adds a scale layer with an explicit channel axis.
func (n *Network) AddScaleNd(in *Tensor, mode ScaleMode, shift, scale, power Weights, channelAxis int) *ScaleLayer {
	l := &ScaleLayer{mode: mode, shift: shift, scale: scale, power: power, channelAxis: channelAxis}
	n.addLayer(l, LayerScale, 1, 1, in)
	return l
}

func (l *ScaleLayer) Mode() ScaleMode { return l.mode }
func (l *ScaleLayer) SetMode(m ScaleMode) {
	l.mode = m
	l.changed()
}
func (l *ScaleLayer) Shift() Weights { return l.shift }
func (l *ScaleLayer) SetShift(w Weights) {
	l.shift = w
	l.changed()
}
func (l *ScaleLayer) Scale() Weights { return l.scale }
func (l *ScaleLayer) SetScale(w Weights) {
	l.scale = w
	l.changed()
}
func (l *ScaleLayer) Power() Weights { return l.power }
func (l *ScaleLayer) SetPower(w Weights) {
	l.power = w
	l.changed()
}

// ChannelAxis is the channel axis (for AddScale, rank-3 of the input).
func (l *ScaleLayer) ChannelAxis() int {
	if l.axisFromRank {
		if in := l.Input(0); in != nil {
			return in.Rank() - 3
		}
	}
	return l.channelAxis
}
func (l *ScaleLayer) SetChannelAxis(axis int) {
	l.channelAxis = axis
	l.axisFromRank = false
	l.changed()
}

// WeightsCount is the number of coefficients each non-empty set of
// weights needs for input dims d, or -1 when a dynamic dim decides it.
func (l *ScaleLayer) WeightsCount(d Dims) int64 {
	axis := l.ChannelAxis()
	switch l.mode {
	case ScaleChannel:
		return d[axis]
	case ScaleElementwise:
		return d[axis:].Volume()
	}
	return 1
}

func (l *ScaleLayer) infer(c *inferCtx) {
	in := c.in(0)
	if l.mode < 0 || l.mode >= numScaleModes {
		c.errorf(diag.InvalidNode, "unknown scale mode %d", int(l.mode))
		return
	}
	if in.dtype != Float32 && in.dtype != Float16 && in.dtype != BFloat16 {
		c.errorf(diag.TypeMismatch, "scale needs a float input (float32, float16, bfloat16); %q is %v", in.name, in.dtype)
		return
	}
	r := len(in.dims)
	if r < 4 {
		c.errorf(diag.ShapeMismatch, "scale needs an input of rank >= 4; %q has dims %v (insert a Shuffle, or use ElementWise layers)", in.name, in.dims)
		return
	}
	axis := l.ChannelAxis()
	if l.mode != ScaleUniform && (axis < 0 || axis >= r) {
		c.errorf(diag.InvalidNode, "channel axis %d is out of range [0, %d) for the input %q of rank %d", axis, r, in.name, r)
		return
	}
	want := l.WeightsCount(in.dims)
	for _, w := range []struct {
		name string
		w    Weights
	}{{"shift", l.shift}, {"scale", l.scale}, {"power", l.power}} {
		if w.w.IsEmpty() {
			continue
		}
		if dt := w.w.Type(); dt != in.dtype && dt != Float32 {
			allowed := "float32"
			if in.dtype != Float32 {
				allowed = in.dtype.String() + " (the input's type) or float32"
			}
			c.errorf(diag.TypeMismatch, "%s weights are %v; they must be %s", w.name, dt, allowed)
			return
		}
		if want >= 0 && w.w.Count() != want {
			c.errorf(diag.ShapeMismatch, "%s has %d weights; %v mode on %q (%v) with channel axis %d needs %d", w.name, w.w.Count(), l.mode, in.name, in.dims, axis, want)
			return
		}
	}
	c.setOutput(0, in.dtype, in.dims)
}
