package dsl

// ShapeLayer outputs the dims of its input as a 1-D Int64 tensor of length
// rank (TensorRT IShapeLayer). The input may have any type. When the input
// dims are static the values are known at build time, so layers that take
// shape tensors (Shuffle, Fill, Slice) can infer static dims from them.
type ShapeLayer struct {
	layerBase
}

// AddShape adds a shape layer.
func (n *Network) AddShape(in *Tensor) *ShapeLayer {
	l := &ShapeLayer{}
	n.addLayer(l, LayerShape, 1, 1, in)
	return l
}

func (l *ShapeLayer) infer(c *inferCtx) {
	in := c.in(0)
	c.setOutput(0, Int64, Dims{int64(len(in.dims))})
	if in.dims.IsStatic() {
		c.setValues(0, in.dims)
	}
}
