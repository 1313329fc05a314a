package dsl

// IdentityLayer copies its input (TensorRT IIdentityLayer). TensorRT also
// lets it convert types through SetOutputType in weakly typed networks;
// trtc networks are strongly typed, so the output always has the input's
// type and dims, and conversions are Cast layers.
type IdentityLayer struct {
	layerBase
}

// AddIdentity adds an identity layer.
func (n *Network) AddIdentity(in *Tensor) *IdentityLayer {
	l := &IdentityLayer{}
	n.addLayer(l, LayerIdentity, 1, 1, in)
	return l
}

func (l *IdentityLayer) infer(c *inferCtx) {
	in := c.in(0)
	c.setOutput(0, in.dtype, in.dims)
	if v, ok := c.values(0); ok {
		c.setValues(0, v)
	}
}
