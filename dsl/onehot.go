package dsl

import "github.com/trtc/trtc/diag"

// OneHotLayer expands indices into one-hot vectors (TensorRT IOneHotLayer).
// The output has rank(indices)+1 dims: the indices' dims with depth
// inserted at axis (in [-rank-1, rank], negative counting from the end of
// the output). An element is on_value where its coordinate along axis
// equals the index at its other coordinates, off_value elsewhere.
//
// Inputs:
//   - 0: indices, Int32 or Int64. As in ONNX OneHot, an index in
//     [-depth, 0) counts from the end; one outside [-depth, depth) gives
//     an all-off vector.
//   - 1: values, a 1-D tensor [off_value, on_value]; its type is the
//     output type.
//   - 2: depth, a scalar Int32 or Int64 > 0. When its value is known at
//     build time the output dim is static, otherwise it is -1.
type OneHotLayer struct {
	layerBase
	axis int
}

// AddOneHot adds a one-hot layer.
func (n *Network) AddOneHot(indices, values, depth *Tensor, axis int) *OneHotLayer {
	l := &OneHotLayer{axis: axis}
	n.addLayer(l, LayerOneHot, 1, 3, indices, values, depth)
	return l
}

// Axis returns the output axis of the one-hot dim.
func (l *OneHotLayer) Axis() int { return l.axis }

// SetAxis sets the output axis of the one-hot dim.
func (l *OneHotLayer) SetAxis(axis int) {
	l.axis = axis
	l.changed()
}

func (l *OneHotLayer) infer(c *inferCtx) {
	idx, vals, depth := c.in(0), c.in(1), c.in(2)
	if idx.dtype != Int32 && idx.dtype != Int64 {
		c.errorf(diag.TypeMismatch, "indices %q must be Int32 or Int64, got %v", idx.name, idx.dtype)
		return
	}
	if len(vals.dims) != 1 || (vals.dims[0] >= 0 && vals.dims[0] != 2) {
		c.errorf(diag.ShapeMismatch, "values %q must be a 1-D tensor [off_value, on_value] of 2 elements, got dims %v", vals.name, vals.dims)
		return
	}
	if depth.dtype != Int32 && depth.dtype != Int64 {
		c.errorf(diag.TypeMismatch, "depth %q must be Int32 or Int64, got %v", depth.name, depth.dtype)
		return
	}
	if len(depth.dims) != 0 {
		c.errorf(diag.ShapeMismatch, "depth %q must be a scalar, got dims %v", depth.name, depth.dims)
		return
	}
	rank := len(idx.dims) + 1
	axis, ok := normAxis(l.axis, rank)
	if !ok {
		c.errorf(diag.InvalidNode, "axis %d is out of range for indices of rank %d; want [%d, %d]", l.axis, rank-1, -rank, rank-1)
		return
	}
	d := Dynamic
	if v, ok := c.values(2); ok && len(v) == 1 {
		if v[0] <= 0 {
			c.errorf(diag.InvalidNode, "depth %q is %d; it must be positive", depth.name, v[0])
			return
		}
		d = v[0]
	}
	out := append(Dims{}, idx.dims[:axis]...)
	out = append(out, d)
	out = append(out, idx.dims[axis:]...)
	c.setOutput(0, vals.dtype, out)
}
