package dsl

import (
	"github.com/trtc/trtc/diag"
)

// IfConditional runs one of two subgraphs depending on a Bool scalar
// (TensorRT IIfConditional). Values enter through ConditionalInput layers
// (AddInput) and leave through ConditionalOutput layers (AddOutput), each
// pairing a true-branch tensor with a false-branch tensor. The true branch
// is every layer between the conditional inputs and the true sides of the
// outputs, the false branch likewise; only the chosen branch runs. Layers
// that depend on no conditional input stay outside and always run.
type IfConditional struct {
	net      *Network
	name     string
	boundary []Layer
}

// AddIfConditional starts a new if-conditional (TensorRT
// INetworkDefinition::addIfConditional).
func (n *Network) AddIfConditional() *IfConditional {
	return &IfConditional{net: n, name: "(Unnamed IfConditional at " + callerLoc() + ")"}
}

// Name returns the conditional's name (used in diagnostics).
func (ic *IfConditional) Name() string { return ic.name }

// SetName names the conditional.
func (ic *IfConditional) SetName(name string) { ic.name = name }

// Network returns the network the conditional belongs to.
func (ic *IfConditional) Network() *Network { return ic.net }

// BoundaryLayers returns the condition, input and output layers in the
// order they were added.
func (ic *IfConditional) BoundaryLayers() []Layer { return append([]Layer{}, ic.boundary...) }

func (ic *IfConditional) add(l Layer) { ic.boundary = append(ic.boundary, l) }

// condBoundary is embedded by the three conditional boundary layer types.
type condBoundary struct{ cond *IfConditional }

// Conditional returns the if-conditional the layer belongs to (TensorRT
// getConditional).
func (b condBoundary) Conditional() *IfConditional { return b.cond }

// ConditionLayer holds the Bool scalar that selects the branch (TensorRT
// IConditionLayer). It has no outputs.
type ConditionLayer struct {
	layerBase
	condBoundary
}

// SetCondition sets the condition, a Bool scalar computed outside the
// conditional. A conditional has exactly one.
func (ic *IfConditional) SetCondition(t *Tensor) *ConditionLayer {
	l := &ConditionLayer{condBoundary: condBoundary{ic}}
	ic.net.addLayer(l, LayerCondition, 0, 1, t)
	ic.add(l)
	return l
}

func (l *ConditionLayer) infer(c *inferCtx) {
	t := c.in(0)
	if t.dtype != Bool || len(t.dims) != 0 {
		c.errorf(diag.TypeMismatch, "the condition of an if-conditional must be a Bool scalar; %q is %v %v", t.name, t.dtype, t.dims)
	}
}

// ConditionalInputLayer brings a tensor from outside into an
// if-conditional (TensorRT IIfConditionalInputLayer); its output, equal to
// its input, is what the branches compute on.
type ConditionalInputLayer struct {
	layerBase
	condBoundary
}

// AddInput adds a conditional input.
func (ic *IfConditional) AddInput(t *Tensor) *ConditionalInputLayer {
	l := &ConditionalInputLayer{condBoundary: condBoundary{ic}}
	ic.net.addLayer(l, LayerConditionalInput, 1, 1, t)
	ic.add(l)
	return l
}

func (l *ConditionalInputLayer) infer(c *inferCtx) {
	t := c.in(0)
	c.setOutput(0, t.dtype, t.dims)
	if t.values != nil {
		c.setValues(0, t.values)
	}
}

// ConditionalOutputLayer is one value leaving an if-conditional (TensorRT
// IIfConditionalOutputLayer): input 0 when the condition is true, input 1
// when it is false. Both have the same type and rank; a dim that differs
// between them (or is dynamic on either side) is dynamic in the output.
type ConditionalOutputLayer struct {
	layerBase
	condBoundary
}

// AddOutput adds an output choosing between trueOut and falseOut.
func (ic *IfConditional) AddOutput(trueOut, falseOut *Tensor) *ConditionalOutputLayer {
	l := &ConditionalOutputLayer{condBoundary: condBoundary{ic}}
	ic.net.addLayer(l, LayerConditionalOutput, 1, 2, trueOut, falseOut)
	ic.add(l)
	return l
}

func (l *ConditionalOutputLayer) infer(c *inferCtx) {
	a, b := c.in(0), c.in(1)
	if a.dtype != b.dtype {
		c.errorf(diag.TypeMismatch, "the branch outputs differ in type: true branch %q is %v, false branch %q is %v", a.name, a.dtype, b.name, b.dtype)
		return
	}
	if len(a.dims) != len(b.dims) {
		c.errorf(diag.ShapeMismatch, "the branch outputs differ in rank: true branch %q is %v, false branch %q is %v", a.name, a.dims, b.name, b.dims)
		return
	}
	out := make(Dims, len(a.dims))
	for i := range out {
		out[i] = a.dims[i]
		if a.dims[i] != b.dims[i] {
			out[i] = Dynamic
		}
	}
	c.setOutput(0, a.dtype, out)
}
