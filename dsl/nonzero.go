package dsl

import "github.com/trtc/trtc/diag"

// NonZeroLayer lists the positions of the non-zero (for Bool: true)
// elements of its input (TensorRT INonZeroLayer, like ONNX NonZero). For
// an input of rank m with n non-zero elements the output is [m, n]: column
// j is the m-D position of the j-th non-zero element in row-major order.
// n depends on the data, so the output dims are [m, -1] at build time.
type NonZeroLayer struct {
	layerBase
	indicesType DataType
}

// AddNonZero adds a NonZero layer. Its output is Int64 (ONNX's type);
// SetIndicesType(Int32) selects TensorRT's other choice. (TensorRT's
// deprecated one-argument addNonZero defaults to Int32; its current form
// takes the type as an argument.)
func (n *Network) AddNonZero(in *Tensor) *NonZeroLayer {
	l := &NonZeroLayer{indicesType: Int64}
	n.addLayer(l, LayerNonZero, 1, 1, in)
	return l
}

// IndicesType returns the output type.
func (l *NonZeroLayer) IndicesType() DataType { return l.indicesType }

// SetIndicesType sets the output type: Int32 or Int64.
func (l *NonZeroLayer) SetIndicesType(dt DataType) {
	l.indicesType = dt
	l.changed()
}

func (l *NonZeroLayer) infer(c *inferCtx) {
	in := c.in(0)
	if l.indicesType != Int32 && l.indicesType != Int64 {
		c.errorf(diag.TypeMismatch, "indices type %v: want Int32 or Int64", l.indicesType)
		return
	}
	if in.dtype == Int4 {
		c.errorf(diag.TypeMismatch, "input %q is %v, a storage type; Dequantize it first", in.name, in.dtype)
		return
	}
	c.setOutput(0, l.indicesType, Dims{int64(len(in.dims)), Dynamic})
}
