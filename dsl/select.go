package dsl

import "github.com/trtc/trtc/diag"

// SelectLayer picks elements from two tensors by a Bool condition, like
// numpy.where (TensorRT ISelectLayer). Inputs: 0 the Bool condition, 1 the
// "then" values, 2 the "else" values. All three have the same rank and
// broadcast against each other (along each axis equal lengths or 1); then
// and else have the same type, which is the output's.
type SelectLayer struct {
	layerBase
}

// AddSelect adds a select layer.
func (n *Network) AddSelect(cond, thenInput, elseInput *Tensor) *SelectLayer {
	l := &SelectLayer{}
	n.addLayer(l, LayerSelect, 1, 3, cond, thenInput, elseInput)
	return l
}

func (l *SelectLayer) infer(c *inferCtx) {
	cond, a, b := c.in(0), c.in(1), c.in(2)
	if cond.dtype != Bool {
		c.errorf(diag.TypeMismatch, "the condition %q must be Bool, got %v", cond.name, cond.dtype)
		return
	}
	if a.dtype != b.dtype {
		c.errorf(diag.TypeMismatch, "then and else inputs have different types: %q is %v, %q is %v (insert a Cast layer)", a.name, a.dtype, b.name, b.dtype)
		return
	}
	d, err := BroadcastDims(cond.dims, a.dims)
	if err == nil {
		d, err = BroadcastDims(d, b.dims)
	}
	if err != nil {
		c.errorf(diag.ShapeMismatch, "cannot broadcast condition %q, then %q and else %q: %v", cond.name, a.name, b.name, err)
		return
	}
	c.setOutput(0, a.dtype, d)
}
