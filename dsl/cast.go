package dsl

import "github.com/trtc/trtc/diag"

// CastLayer converts its input to another element type (TensorRT
// ICastLayer). Floats to integers truncate toward zero and saturate (NaN
// gives 0); anything to Bool is x != 0; Bool to numbers is 0 or 1; floats
// round to nearest even when narrowed. FP8 and Int4 are quantized storage
// types: convert them with Quantize and Dequantize layers instead.
type CastLayer struct {
	layerBase
	to DataType
}

// AddCast adds a cast layer to toType.
func (n *Network) AddCast(in *Tensor, toType DataType) *CastLayer {
	l := &CastLayer{to: toType}
	n.addLayer(l, LayerCast, 1, 1, in)
	return l
}

func (l *CastLayer) ToType() DataType { return l.to }
func (l *CastLayer) SetToType(dt DataType) {
	l.to = dt
	l.changed()
}

// castAllowedType reports whether Cast takes dt as input or output type.
func castAllowedType(dt DataType) bool {
	switch dt {
	case Float32, Float16, BFloat16, Int8, UInt8, Int32, Int64, Bool:
		return true
	}
	return false
}

func (l *CastLayer) infer(c *inferCtx) {
	in := c.in(0)
	if !l.to.Valid() {
		c.errorf(diag.InvalidNode, "cast to %v: not a data type", l.to)
		return
	}
	for _, dt := range []DataType{in.dtype, l.to} {
		if !castAllowedType(dt) {
			c.errorf(diag.TypeMismatch, "cast from %v to %v: %v is a quantized storage type; use Quantize/Dequantize layers", in.dtype, l.to, dt)
			return
		}
	}
	c.setOutput(0, l.to, in.dims)
	if v, ok := c.values(0); ok && (l.to == Int32 || l.to == Int64) {
		res := append([]int64{}, v...)
		if l.to == Int32 {
			for i, x := range res {
				res[i] = max(min(x, 1<<31-1), -1<<31) // saturate, as Convert does
			}
		}
		c.setValues(0, res)
	}
}
