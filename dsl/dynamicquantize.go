package dsl

import "github.com/trtc/trtc/diag"

// TensorRT data types trtc has no DataType for; named here only to reject
// them with a reason.
const (
	dqTensorRTFP4  DataType = 10 // nvinfer1::DataType::kFP4 (e2m1)
	dqTensorRTE8M0 DataType = 11 // nvinfer1::DataType::kE8M0 (power-of-two scale)
)

// DynamicQuantizeLayer quantizes a float tensor in blocks, computing each
// block's scale from the data (TensorRT IDynamicQuantizeLayer). Output 0 is
// the quantized data (input dims, ToType); output 1 the scales (ScaleType),
// one per block: dim i is input dim i / block dim i.
//
// For each block, with qmax the largest value of ToType (448 for FP8E4M3,
// 127 for Int8) and g the optional double-quantization scale (input 1, a
// positive scalar; 1 when unset):
//
//	scale  = amax(|x| over the block) / qmax          (float32)
//	stored = ScaleType(scale / g)                     (output 1; FP8 rounds and saturates)
//	q      = ToType(x / (stored·g))                   (output 0; Quantize's rounding, 0 where stored·g is 0)
//
// TensorRT's NVFP4 (FP4 data, FP8 scales) and MXFP8 (FP8 data, E8M0 scales)
// recipes need the FP4 and E8M0 types, which trtc's DataType does not have:
// those settings are rejected with UnsupportedAttr. Supported: FP8E4M3 or
// Int8 data with Float32 or FP8E4M3 scales.
//
// The block is BlockShape (AddDynamicQuantizeV2: one entry per input dim,
// positive or -1 for the whole dim) or, when BlockShape is empty, BlockSize
// elements along Axis (the deprecated AddDynamicQuantize: 2-D or 3-D input,
// last or second to last axis, block size 16 or 32).
type DynamicQuantizeLayer struct {
	layerBase
	toType, scaleType DataType
	axis, blockSize   int
	blockShape        Dims
}

// AddDynamicQuantize adds a dynamic quantization layer blocked along one
// axis (TensorRT's deprecated addDynamicQuantize).
func (n *Network) AddDynamicQuantize(in *Tensor, axis, blockSize int, outputType, scaleType DataType) *DynamicQuantizeLayer {
	l := &DynamicQuantizeLayer{toType: outputType, scaleType: scaleType, axis: axis, blockSize: blockSize}
	n.addLayer(l, LayerDynamicQuantize, 2, 2, in)
	return l
}

// AddDynamicQuantizeV2 adds a dynamic quantization layer with an N-d block
// shape (TensorRT addDynamicQuantizeV2).
func (n *Network) AddDynamicQuantizeV2(in *Tensor, blockShape Dims, outputType, scaleType DataType) *DynamicQuantizeLayer {
	l := &DynamicQuantizeLayer{toType: outputType, scaleType: scaleType, blockShape: blockShape.Clone()}
	n.addLayer(l, LayerDynamicQuantize, 2, 2, in)
	return l
}

func (l *DynamicQuantizeLayer) ToType() DataType { return l.toType }
func (l *DynamicQuantizeLayer) SetToType(dt DataType) {
	l.toType = dt
	l.changed()
}
func (l *DynamicQuantizeLayer) ScaleType() DataType { return l.scaleType }
func (l *DynamicQuantizeLayer) SetScaleType(dt DataType) {
	l.scaleType = dt
	l.changed()
}

// Axis is the blocked axis of the deprecated form.
func (l *DynamicQuantizeLayer) Axis() int { return l.axis }
func (l *DynamicQuantizeLayer) SetAxis(axis int) {
	l.axis = axis
	l.changed()
}

// BlockSize is the block length of the deprecated form.
func (l *DynamicQuantizeLayer) BlockSize() int { return l.blockSize }
func (l *DynamicQuantizeLayer) SetBlockSize(n int) {
	l.blockSize = n
	l.changed()
}

// BlockShape is the N-d block; when set it takes precedence over Axis and BlockSize.
func (l *DynamicQuantizeLayer) BlockShape() Dims { return l.blockShape.Clone() }
func (l *DynamicQuantizeLayer) SetBlockShape(d Dims) {
	l.blockShape = d.Clone()
	l.changed()
}

// EffectiveBlockShape is the block in use: BlockShape, or BlockSize along
// Axis (normalized), with 1 elsewhere. It is nil when the layer is invalid.
func (l *DynamicQuantizeLayer) EffectiveBlockShape() Dims {
	in := l.Input(0)
	if in == nil {
		return nil
	}
	if len(l.blockShape) != 0 {
		return l.blockShape.Clone()
	}
	rank := len(in.dims)
	ax, ok := normAxis(l.axis, rank)
	if !ok {
		return nil
	}
	b := make(Dims, rank)
	for i := range b {
		b[i] = 1
	}
	b[ax] = int64(l.blockSize)
	return b
}

func (l *DynamicQuantizeLayer) infer(c *inferCtx) {
	in := c.in(0)
	if !quantIsFloatIO(in.dtype) {
		c.errorf(diag.TypeMismatch, "the input %q must be float32, float16 or bfloat16, got %v", in.name, in.dtype)
		return
	}
	if in.dims.Rank() == 0 {
		c.errorf(diag.ShapeMismatch, "the input %q must not be a scalar", in.name)
		return
	}
	switch l.toType {
	case FP8E4M3, Int8:
	case dqTensorRTFP4:
		c.errorf(diag.UnsupportedAttr, "fp4 output (NVFP4) is not supported: trtc has no fp4 data type to hold the result; use fp8e4m3 or int8")
		return
	default:
		c.errorf(diag.TypeMismatch, "the output type must be fp8e4m3 or int8 (or TensorRT's fp4), got %v", l.toType)
		return
	}
	switch l.scaleType {
	case Float32, FP8E4M3:
	case dqTensorRTE8M0:
		c.errorf(diag.UnsupportedAttr, "e8m0 scales (MXFP8) are not supported: trtc has no e8m0 data type; use float32 or fp8e4m3 scales")
		return
	default:
		c.errorf(diag.TypeMismatch, "the scale type must be float32 or fp8e4m3 (or TensorRT's e8m0), got %v", l.scaleType)
		return
	}
	if g := c.in(1); g != nil && (!quantIsFloatIO(g.dtype) || g.dims.Rank() != 0) {
		c.errorf(diag.ShapeMismatch, "the double-quantization scale %q must be a float scalar (rank 0), got %v %v", g.name, g.dtype, g.dims)
		return
	}
	rank := in.dims.Rank()
	if len(l.blockShape) == 0 {
		if rank != 2 && rank != 3 {
			c.errorf(diag.ShapeMismatch, "AddDynamicQuantize (axis and block size) supports 2-D and 3-D inputs; %q is %v (use AddDynamicQuantizeV2 with a block shape)", in.name, in.dims)
			return
		}
		if ax, ok := normAxis(l.axis, rank); !ok || ax < rank-2 {
			c.errorf(diag.InvalidNode, "the blocked axis must be the last or second to last of %q (rank %d), got %d", in.name, rank, l.axis)
			return
		}
		if l.blockSize != 16 && l.blockSize != 32 {
			c.errorf(diag.InvalidNode, "the block size must be 16 or 32, got %d", l.blockSize)
			return
		}
		if ax, _ := normAxis(l.axis, rank); in.dims[ax] < 0 {
			c.errorf(diag.ShapeMismatch, "the blocked axis %d of %q must have a static size, got %v", l.axis, in.name, in.dims)
			return
		}
	}
	block := l.EffectiveBlockShape()
	if len(block) != rank {
		c.errorf(diag.ShapeMismatch, "the block shape %v must have the input's rank %d", block, rank)
		return
	}
	sd := make(Dims, rank)
	for i, b := range block {
		d := in.dims[i]
		switch {
		case b == 0 || b < -1:
			c.errorf(diag.InvalidNode, "block shape %v: dimension %d is %d; want a positive size or -1 for the whole dimension", block, i, b)
			return
		case b == -1:
			sd[i] = 1
		case d < 0:
			sd[i] = Dynamic
			if b == 1 {
				sd[i] = d
			}
		case d%b != 0:
			c.errorf(diag.ShapeMismatch, "dimension %d of %q is %d, not a multiple of the block size %d there", i, in.name, d, b)
			return
		default:
			sd[i] = d / b
		}
	}
	c.setOutput(0, l.toType, in.dims)
	c.setOutput(1, l.scaleType, sd)
}
