package dsl

import "github.com/trtc/trtc/diag"

// AssertionLayer fails execution when any element of its Bool input is
// false (TensorRT IAssertionLayer); the error carries the message. The
// input is a Bool shape tensor (rank 0 or 1). The layer has no outputs, so
// passes that remove unused layers must keep it.
type AssertionLayer struct {
	layerBase
	message string
}

// AddAssertion adds an assertion layer.
func (n *Network) AddAssertion(cond *Tensor, message string) *AssertionLayer {
	l := &AssertionLayer{message: message}
	n.addLayer(l, LayerAssertion, 0, 1, cond)
	return l
}

func (l *AssertionLayer) Message() string { return l.message }
func (l *AssertionLayer) SetMessage(m string) {
	l.message = m
	l.changed()
}

func (l *AssertionLayer) infer(c *inferCtx) {
	in := c.in(0)
	if in.dtype != Bool {
		c.errorf(diag.TypeMismatch, "the condition %q must be Bool, got %v", in.name, in.dtype)
		return
	}
	if len(in.dims) > 1 {
		c.errorf(diag.ShapeMismatch, "the condition %q must be a shape tensor (rank 0 or 1), got dims %v; Reduce it first", in.name, in.dims)
	}
}
