package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// nnSpatial holds the window attributes shared by Conv, ConvTranspose and
// the pooling ops, one entry per spatial dim.
type nnSpatial struct {
	kernel, strides, dilations, pre, post []int64
	autoPad                               string
}

// nnSpatialAttrs reads kernel_shape (or uses kernel when the attribute is
// absent), strides, dilations, pads and auto_pad for ns spatial dims.
func (c *nodeCtx) nnSpatialAttrs(ns int, kernel []int64) (nnSpatial, error) {
	ones := func() []int64 {
		o := make([]int64, ns)
		for i := range o {
			o[i] = 1
		}
		return o
	}
	s := nnSpatial{
		kernel:    c.AttrInts("kernel_shape", kernel),
		strides:   c.AttrInts("strides", ones()),
		dilations: c.AttrInts("dilations", ones()),
		autoPad:   c.AttrString("auto_pad", "NOTSET"),
	}
	pads := c.AttrInts("pads", make([]int64, 2*ns))
	if c.err != nil {
		return s, c.err
	}
	for _, a := range []struct {
		name string
		v    []int64
		n    int
		min  int64
	}{{"kernel_shape", s.kernel, ns, 1}, {"strides", s.strides, ns, 1}, {"dilations", s.dilations, ns, 1}, {"pads", pads, 2 * ns, 0}} {
		if len(a.v) != a.n {
			return s, c.Errorf(diag.UnsupportedAttr, "attribute %s=%v has %d values; the input has %d spatial dims, so it needs %d", a.name, a.v, len(a.v), ns, a.n)
		}
		for _, v := range a.v {
			if v < a.min {
				return s, c.Errorf(diag.UnsupportedAttr, "attribute %s=%v: every value must be >= %d", a.name, a.v, a.min)
			}
		}
	}
	s.pre, s.post = append([]int64{}, pads[:ns]...), append([]int64{}, pads[ns:]...)
	switch s.autoPad {
	case "NOTSET", "SAME_UPPER", "SAME_LOWER":
	case "VALID":
		s.pre, s.post = make([]int64, ns), make([]int64, ns)
	default:
		return s, c.Errorf(diag.UnsupportedAttr, "attribute auto_pad=%q: want NOTSET, SAME_UPPER, SAME_LOWER or VALID", s.autoPad)
	}
	return s, nil
}

// mode is the dsl padding mode for auto_pad.
func (s *nnSpatial) mode() dsl.PaddingMode {
	switch s.autoPad {
	case "SAME_UPPER":
		return dsl.PaddingSameUpper
	case "SAME_LOWER":
		return dsl.PaddingSameLower
	}
	return dsl.PaddingExplicitRoundDown
}

// extend1D turns 1-d window attributes into 2-d ones with a unit trailing
// spatial dim (1-d ops run as 2-d layers on an unsqueezed input).
func (s *nnSpatial) extend1D() {
	s.kernel = append(s.kernel, 1)
	s.strides = append(s.strides, 1)
	s.dilations = append(s.dilations, 1)
	s.pre = append(s.pre, 0)
	s.post = append(s.post, 0)
}

// nnWeights turns a constant into layer weights of the input's type or
// float32 (the types a layer accepts), reshaped to shape when not nil.
func (c *nodeCtx) nnWeights(t *tensor.Tensor, in dsl.DataType, shape []int64) (dsl.Weights, error) {
	if t.DType() != in && t.DType() != dsl.Float32 {
		f, err := t.Convert(dsl.Float32)
		if err != nil {
			return dsl.Weights{}, c.Errorf(diag.TypeMismatch, "weights of type %v: %v", t.DType(), err)
		}
		t = f
	}
	if shape != nil {
		r, err := t.Reshape(shape...)
		if err != nil {
			return dsl.Weights{}, c.Errorf(diag.ShapeMismatch, "weights %v: %v", t.Shape(), err)
		}
		t = r
	}
	return dsl.NewWeights(t), nil
}
