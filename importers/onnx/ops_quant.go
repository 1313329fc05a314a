package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
)

// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear. TensorRT's
// Quantize layer has no UInt8 (or int16) output and only symmetric scales,
// so the integer formats are composed from elementwise layers:
//
//	quantize:   y = cast(clip(roundHalfEven(x / scale) + zeroPoint, qmin, qmax))
//	dequantize: y = (float(x) - float(zeroPoint)) * scale
//
// FP8 and Int4, storage types a Cast cannot make, go through the DSL's
// Quantize/Dequantize layers with a unit scale after the arithmetic above.

func init() {
	for _, since := range []int64{10, 13, 19, 21} {
		register(OpInfo{Op: "QuantizeLinear", Since: since, Types: "x: float32, float16, bfloat16, int32; y: uint8, int8, int16, uint16, float8e4m3fn, int4",
			Restrictions: "no uint4 or fnuz/e5m2 float8; blocked scales need a static dim along axis"}, importQuantizeLinear)
		register(OpInfo{Op: "DequantizeLinear", Since: since, Types: "x: uint8, int8, int16, uint16, int32, float8e4m3fn, int4",
			Restrictions: "no uint4 or fnuz/e5m2 float8; blocked scales need a static dim along axis"}, importDequantizeLinear)
	}
	register(OpInfo{Op: "DynamicQuantizeLinear", Since: 11, Types: "float32, float16, bfloat16"}, importDynamicQuantizeLinear)
}

// quantRange is the integer range of a quantized ONNX type.
func quantRange(proto int32) (lo, hi float32, dt dsl.DataType, ok bool) {
	switch onnxpb.TensorProto_DataType(proto) {
	case onnxpb.TensorProto_UINT8:
		return 0, 255, dsl.UInt8, true
	case onnxpb.TensorProto_INT8:
		return -128, 127, dsl.Int8, true
	case onnxpb.TensorProto_INT16:
		return -32768, 32767, dsl.Int32, true
	case onnxpb.TensorProto_UINT16:
		return 0, 65535, dsl.Int32, true
	case onnxpb.TensorProto_INT4:
		return -8, 7, dsl.Int4, true
	case onnxpb.TensorProto_FLOAT8E4M3FN:
		return -448, 448, dsl.FP8E4M3, true
	}
	return 0, 0, 0, false
}

// quantToFloat turns quantized or integer data into Float32: storage
// types through a unit-scale Dequantize (which takes no scalars, so those
// are reshaped), the others with a Cast.
func (c *nodeCtx) quantToFloat(t *dsl.Tensor) *dsl.Tensor {
	if t.Type() != dsl.FP8E4M3 && t.Type() != dsl.Int4 {
		return c.ctlCast(t, dsl.Float32)
	}
	in := t
	if t.Rank() == 0 {
		in = c.ctlReshape(t, dsl.Dims{1})
	}
	out := c.Net().AddDequantize(in, c.ctlF32(1), dsl.Float32).Output(0)
	if t.Rank() == 0 {
		out = c.ctlScalar(out)
	}
	return out
}

// quantFromFloat stores rounded, clipped Float32 values as dt.
func (c *nodeCtx) quantFromFloat(t *dsl.Tensor, dt dsl.DataType) *dsl.Tensor {
	if dt != dsl.FP8E4M3 && dt != dsl.Int4 {
		return c.ctlCast(t, dt)
	}
	in := t
	if t.Rank() == 0 {
		in = c.ctlReshape(t, dsl.Dims{1})
	}
	out := c.Net().AddQuantize(in, c.ctlF32(1), dt).Output(0)
	if t.Rank() == 0 {
		out = c.ctlScalar(out)
	}
	return out
}

// quantBroadcast shapes a scale or zero point s so it broadcasts against
// data x: per-tensor (one element), per-axis (1-D along axis) or blocked
// (x's rank, each element repeated block times along axis).
func (c *nodeCtx) quantBroadcast(s, x *dsl.Tensor, axis, block int64) (*dsl.Tensor, error) {
	r := int64(x.Rank())
	sd := s.Dims()
	if block <= 0 && (len(sd) == 0 || (len(sd) == 1 && sd[0] == 1)) {
		return c.ctlScalar(s), nil
	}
	ax := axis
	if ax < 0 {
		ax += r
	}
	if ax < 0 || ax >= r {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute axis=%d is out of range for data of rank %d", axis, r)
	}
	if block <= 0 {
		if len(sd) != 1 {
			return nil, c.Errorf(diag.ShapeMismatch, "a per-axis scale or zero point must be 1-D; %q has dims %v", s.Name(), sd)
		}
		var axes []int64
		for i := int64(0); i < r; i++ {
			if i != ax {
				axes = append(axes, i)
			}
		}
		if len(axes) == 0 {
			return s, nil
		}
		return c.unsqueeze(s, axes...), nil
	}
	if int64(len(sd)) != r {
		return nil, c.Errorf(diag.ShapeMismatch, "a blocked scale or zero point must have the data's rank %d; %q has dims %v", r, s.Name(), sd)
	}
	d := x.Dims()[ax]
	if d < 0 {
		return nil, c.Errorf(diag.UnsupportedAttr, "blocked quantization (block_size=%d) needs a static data dim along axis %d", block, ax)
	}
	idx := make([]int64, d)
	for i := range idx {
		idx[i] = int64(i) / block
	}
	return c.Net().AddGather(s, c.ctlI64([]int64{d}, idx...), int(ax)).Output(0), nil
}

// quantOutType picks QuantizeLinear's output type: the zero point's, else
// output_dtype (opset 21), else uint8.
func (c *nodeCtx) quantOutType() (int32, error) {
	if c.HasInput(2) {
		if p := c.ctlProtoType(c.node.GetInput()[2]); p != 0 {
			return p, nil
		}
		zp := c.Input(2)
		switch zp.Type() {
		case dsl.UInt8:
			return int32(onnxpb.TensorProto_UINT8), nil
		case dsl.Int8:
			return int32(onnxpb.TensorProto_INT8), nil
		case dsl.FP8E4M3:
			return int32(onnxpb.TensorProto_FLOAT8E4M3FN), nil
		case dsl.Int4:
			return int32(onnxpb.TensorProto_INT4), nil
		}
		return 0, c.Errorf(diag.UnsupportedAttr, "zero point %q is %v; the model does not say whether it is int16 or uint16", zp.Name(), zp.Type())
	}
	if dt := c.AttrInt("output_dtype", 0); dt != 0 {
		return int32(dt), nil
	}
	return int32(onnxpb.TensorProto_UINT8), nil
}

func importQuantizeLinear(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	proto, err := c.quantOutType()
	if err != nil {
		return nil, err
	}
	lo, hi, dt, ok := quantRange(proto)
	if !ok {
		return nil, c.Errorf(diag.UnsupportedAttr, "QuantizeLinear to %s is not supported (uint8, int8, int16, uint16, int4, float8e4m3fn are)", protoTypeName(proto))
	}
	axis, block := c.AttrInt("axis", 1), c.AttrInt("block_size", 0)
	scale, err := c.quantBroadcast(c.ctlCast(c.Input(1), dsl.Float32), x, axis, block)
	if err != nil {
		return nil, err
	}
	y := c.ew(c.ctlCast(x, dsl.Float32), scale, dsl.ElementWiseDiv)
	if dt == dsl.FP8E4M3 {
		if c.AttrInt("saturate", 1) == 0 {
			// Without saturation, values that round beyond the largest
			// finite float8e4m3fn (448; the rounding boundary is 464) are NaN.
			abs := c.Net().AddUnary(y, dsl.UnaryAbs).Output(0)
			big := c.ew(abs, c.ctlF32(464), dsl.ElementWiseLess)
			big = c.Net().AddUnary(big, dsl.UnaryNot).Output(0)
			nan := c.ew(c.ctlNaN(), y, dsl.ElementWiseSum)
			bb := c.Broadcast(big, nan, y)
			y = c.Net().AddSelect(bb[0], bb[1], bb[2]).Output(0)
		}
		return []*dsl.Tensor{c.quantFromFloat(y, dt)}, nil
	}
	y = c.Net().AddUnary(y, dsl.UnaryRound).Output(0)
	if c.HasInput(2) {
		zp, err := c.quantBroadcast(c.quantToFloat(c.Input(2)), x, axis, block)
		if err != nil {
			return nil, err
		}
		y = c.ew(y, zp, dsl.ElementWiseSum)
	}
	y = c.ctlClip(y, lo, hi)
	return []*dsl.Tensor{c.quantFromFloat(y, dt)}, nil
}

func importDequantizeLinear(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	axis, block := c.AttrInt("axis", 1), c.AttrInt("block_size", 0)
	s := c.Input(1)
	outType := s.Type()
	if outType != dsl.Float32 && outType != dsl.Float16 && outType != dsl.BFloat16 {
		return nil, c.Errorf(diag.TypeMismatch, "the scale %q must be float32, float16 or bfloat16, got %v", s.Name(), outType)
	}
	scale, err := c.quantBroadcast(c.ctlCast(s, dsl.Float32), x, axis, block)
	if err != nil {
		return nil, err
	}
	y := c.quantToFloat(x)
	if c.HasInput(2) {
		zp, err := c.quantBroadcast(c.quantToFloat(c.Input(2)), x, axis, block)
		if err != nil {
			return nil, err
		}
		y = c.ew(y, zp, dsl.ElementWiseSub)
	}
	y = c.ew(y, scale, dsl.ElementWiseProd)
	return []*dsl.Tensor{c.ctlCast(y, outType)}, nil
}

// importDynamicQuantizeLinear computes uint8 scale and zero point from the
// data's range (widened to include 0), then quantizes with them.
func importDynamicQuantizeLinear(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.ctlCast(c.Input(0), dsl.Float32)
	var mask uint32
	for i := 0; i < x.Rank(); i++ {
		mask |= 1 << i
	}
	reduce := func(op dsl.ReduceOperation) *dsl.Tensor {
		if x.Rank() == 0 {
			return x
		}
		return c.Net().AddReduce(x, op, mask, false).Output(0)
	}
	zero := c.ctlF32(0)
	xmin := c.ew(reduce(dsl.ReduceMin), zero, dsl.ElementWiseMin)
	xmax := c.ew(reduce(dsl.ReduceMax), zero, dsl.ElementWiseMax)
	scale := c.ew(c.ew(xmax, xmin, dsl.ElementWiseSub), c.ctlF32(255), dsl.ElementWiseDiv)
	zp := c.ew(zero, c.ew(xmin, scale, dsl.ElementWiseDiv), dsl.ElementWiseSub)
	zp = c.Net().AddUnary(c.ctlClip(zp, 0, 255), dsl.UnaryRound).Output(0)
	y := c.Net().AddUnary(c.ew(x, scale, dsl.ElementWiseDiv), dsl.UnaryRound).Output(0)
	y = c.ctlClip(c.ew(y, zp, dsl.ElementWiseSum), 0, 255)
	return []*dsl.Tensor{c.ctlCast(y, dsl.UInt8), scale, c.ctlCast(zp, dsl.UInt8)}, nil
}
