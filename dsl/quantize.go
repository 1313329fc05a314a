package dsl

import (
	"github.com/trtc/trtc/diag"
)

// QuantizeLayer quantizes a float tensor (TensorRT IQuantizeLayer):
//
//	output = saturate(roundHalfEven(input / scale) + zeroPt)
//
// Inputs: 0 the float32/float16/bfloat16 data; 1 the scale; 2 (optional,
// SetInput) the zero point, of the output type (TensorRT requires it to be
// all zeros, since only symmetric quantization is supported; trtc's CPU
// engine adds whatever it holds). The output type is Int8 ([-128, 127]),
// Int4 ([-8, 7]) or FP8E4M3 (round to nearest even on the fp8 grid,
// saturating to ±448). UInt8 is not an output type of TensorRT's layer.
//
// The scale selects the granularity:
//   - a scalar (or a one-element 1-D tensor): per-tensor;
//   - a 1-D tensor of n > 1 values: per-channel along Axis, whose input
//     dimension must be n;
//   - a tensor of the input's rank: block quantization (FP8 and Int4 only).
//     Its dims equal the input's except along the blocked axes, where the
//     input dim is scale dim × block size, and element (i0, i1, ...) uses
//     scale (i0/B0, i1/B1, ...). SetBlockShape states the block shape
//     explicitly (-1 = the whole dimension); without it, the block shape is
//     derived from the two shapes.
//
// Scales must be positive. A float16/bfloat16 scale must have the input's type.
type QuantizeLayer struct {
	layerBase
	quantParams
	toType DataType
}

// quantParams are the settings Quantize and Dequantize share.
type quantParams struct {
	axis       int
	blockShape Dims
}

// AddQuantize adds a quantize layer with per-tensor scaling by default.
func (n *Network) AddQuantize(in, scale *Tensor, outputType DataType) *QuantizeLayer {
	l := &QuantizeLayer{quantParams: quantParams{axis: -1}, toType: outputType}
	n.addLayer(l, LayerQuantize, 1, 3, in, scale)
	return l
}

// Axis is the per-channel quantization axis; -1 means per-tensor.
func (l *QuantizeLayer) Axis() int { return l.axis }

// SetAxis sets the per-channel quantization axis (an input dimension index;
// -1 means per-tensor, so negative axes do not count from the end here).
func (l *QuantizeLayer) SetAxis(axis int) {
	l.axis = axis
	l.changed()
}

// BlockShape is the block shape set by SetBlockShape (empty: derived).
func (l *QuantizeLayer) BlockShape() Dims { return l.blockShape.Clone() }

// SetBlockShape sets the block shape for block quantization: one entry per
// input dimension, each positive or -1 for the whole dimension.
func (l *QuantizeLayer) SetBlockShape(d Dims) {
	l.blockShape = d.Clone()
	l.changed()
}

// ToType is the quantized output type.
func (l *QuantizeLayer) ToType() DataType { return l.toType }

// SetToType sets the quantized output type.
func (l *QuantizeLayer) SetToType(dt DataType) {
	l.toType = dt
	l.changed()
}

func (l *QuantizeLayer) infer(c *inferCtx) {
	in := c.in(0)
	if !quantIsFloatIO(in.dtype) {
		c.errorf(diag.TypeMismatch, "the data input %q must be float32, float16 or bfloat16, got %v", in.name, in.dtype)
		return
	}
	if !quantIsQuantized(l.toType) {
		c.errorf(diag.TypeMismatch, "the output type must be int8, fp8e4m3 or int4, got %v (TensorRT's Quantize has no %v output; fp4 is not a trtc data type)", l.toType, l.toType)
		return
	}
	if !l.quantParams.check(c, in, l.toType, in.dtype) {
		return
	}
	if zp := c.in(2); zp != nil && zp.dtype != l.toType {
		c.errorf(diag.TypeMismatch, "the zero point %q must have the output type %v, got %v", zp.name, l.toType, zp.dtype)
		return
	}
	c.setOutput(0, l.toType, in.dims)
}

// DequantizeLayer turns a quantized tensor back into floats (TensorRT
// IDequantizeLayer):
//
//	output = (input - zeroPt) * scale
//
// Inputs: 0 the Int8, FP8E4M3 or Int4 data; 1 the scale; 2 (optional,
// SetInput) the zero point, of the input's type. The output type is
// float32, float16 or bfloat16; a float16/bfloat16 scale must have the
// output type. Per-tensor, per-channel (Axis) and block scales follow the
// rules of QuantizeLayer.
type DequantizeLayer struct {
	layerBase
	quantParams
	toType DataType
}

// AddDequantize adds a dequantize layer with per-tensor scaling by default.
func (n *Network) AddDequantize(in, scale *Tensor, outputType DataType) *DequantizeLayer {
	l := &DequantizeLayer{quantParams: quantParams{axis: -1}, toType: outputType}
	n.addLayer(l, LayerDequantize, 1, 3, in, scale)
	return l
}

// Axis is the per-channel axis; -1 means per-tensor.
func (l *DequantizeLayer) Axis() int { return l.axis }

// SetAxis sets the per-channel axis (-1: per-tensor).
func (l *DequantizeLayer) SetAxis(axis int) {
	l.axis = axis
	l.changed()
}

// BlockShape is the block shape set by SetBlockShape (empty: derived).
func (l *DequantizeLayer) BlockShape() Dims { return l.blockShape.Clone() }

// SetBlockShape sets the block shape (positive entries, -1 = whole dimension).
func (l *DequantizeLayer) SetBlockShape(d Dims) {
	l.blockShape = d.Clone()
	l.changed()
}

// ToType is the float output type.
func (l *DequantizeLayer) ToType() DataType { return l.toType }

// SetToType sets the float output type.
func (l *DequantizeLayer) SetToType(dt DataType) {
	l.toType = dt
	l.changed()
}

func (l *DequantizeLayer) infer(c *inferCtx) {
	in := c.in(0)
	if !quantIsQuantized(in.dtype) {
		c.errorf(diag.TypeMismatch, "the data input %q must be int8, fp8e4m3 or int4, got %v", in.name, in.dtype)
		return
	}
	if !quantIsFloatIO(l.toType) {
		c.errorf(diag.TypeMismatch, "the output type must be float32, float16 or bfloat16, got %v", l.toType)
		return
	}
	if !l.quantParams.check(c, in, in.dtype, l.toType) {
		return
	}
	if zp := c.in(2); zp != nil && zp.dtype != in.dtype {
		c.errorf(diag.TypeMismatch, "the zero point %q must have the input's type %v, got %v", zp.name, in.dtype, zp.dtype)
		return
	}
	c.setOutput(0, l.toType, in.dims)
}

func quantIsFloatIO(dt DataType) bool { return dt == Float32 || dt == Float16 || dt == BFloat16 }

func quantIsQuantized(dt DataType) bool { return dt == Int8 || dt == FP8E4M3 || dt == Int4 }

// check validates the scale (input 1) and zero point (input 2) against the
// data input: the scale's type, the per-tensor / per-channel / block rules.
// qType is the quantized type, fType the float type of the layer.
func (p *quantParams) check(c *inferCtx, in *Tensor, qType, fType DataType) bool {
	scale := c.in(1)
	if in.dims.Rank() == 0 {
		c.errorf(diag.ShapeMismatch, "the data input %q must not be a scalar", in.name)
		return false
	}
	switch scale.dtype {
	case Float32:
	case Float16, BFloat16:
		if scale.dtype != fType {
			c.errorf(diag.TypeMismatch, "a %v scale needs %v data on the float side, got %v (use a float32 scale or cast it)", scale.dtype, scale.dtype, fType)
			return false
		}
	default:
		c.errorf(diag.TypeMismatch, "the scale %q must be float32, float16 or bfloat16, got %v", scale.name, scale.dtype)
		return false
	}
	if zp := c.in(2); zp != nil && !zp.dims.Equal(scale.dims) {
		c.errorf(diag.ShapeMismatch, "the zero point %q has dims %v but the scale %q has %v; they must be identical", zp.name, zp.dims, scale.name, scale.dims)
		return false
	}
	rank := in.dims.Rank()
	sd := scale.dims
	switch {
	case sd.Rank() == 0 || (sd.Rank() == 1 && sd[0] == 1):
		return true // per-tensor
	case sd.Rank() == 1 && rank != 1 || sd.Rank() == 1 && len(p.blockShape) == 0:
		if p.axis < 0 || p.axis >= rank {
			c.errorf(diag.InvalidNode, "a 1-D scale %q of %v values means per-channel quantization and needs an axis in [0, %d) set with SetAxis, got %d", scale.name, sd, rank, p.axis)
			return false
		}
		if d := in.dims[p.axis]; d >= 0 && sd[0] >= 0 && d != sd[0] {
			c.errorf(diag.ShapeMismatch, "the per-channel scale %q has %d values but the input %q has %d along axis %d", scale.name, sd[0], in.name, d, p.axis)
			return false
		}
		return true
	case sd.Rank() != rank:
		c.errorf(diag.ShapeMismatch, "the scale %q has rank %d: want a scalar (per-tensor), a 1-D tensor (per-channel) or rank %d like the input %q (block)", scale.name, sd.Rank(), rank, in.name)
		return false
	}
	// Block quantization.
	if qType == Int8 {
		c.errorf(diag.UnsupportedAttr, "block quantization (scale %q of rank %d) is supported for fp8e4m3 and int4 only, not int8; use a scalar or 1-D scale", scale.name, sd.Rank())
		return false
	}
	if len(p.blockShape) != 0 && len(p.blockShape) != rank {
		c.errorf(diag.ShapeMismatch, "the block shape %v has rank %d but the input %q has rank %d", p.blockShape, len(p.blockShape), in.name, rank)
		return false
	}
	for i := 0; i < rank; i++ {
		d, s := in.dims[i], sd[i]
		if len(p.blockShape) != 0 {
			b := p.blockShape[i]
			if b == 0 || b < -1 {
				c.errorf(diag.InvalidNode, "block shape %v: dimension %d is %d; want a positive size or -1 for the whole dimension", p.blockShape, i, b)
				return false
			}
			if d < 0 || s < 0 {
				continue
			}
			want := int64(1)
			if b > 0 {
				want = (d + b - 1) / b
			}
			if s != want {
				c.errorf(diag.ShapeMismatch, "scale %q dimension %d is %d; the input %q has %d there and the block is %d, so want %d", scale.name, i, s, in.name, d, b, want)
				return false
			}
			continue
		}
		if d < 0 || s < 0 {
			continue
		}
		if s == 0 || d%s != 0 {
			c.errorf(diag.ShapeMismatch, "scale %q dimension %d is %d, which does not divide the input %q dimension %d; the block size along it would not be whole", scale.name, i, s, in.name, d)
			return false
		}
	}
	return true
}
