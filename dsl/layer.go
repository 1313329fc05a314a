package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// Layer is one operation of a network (TensorRT's ILayer). Every concrete
// layer type (ConvolutionLayer, ActivationLayer, ...) embeds layerBase and
// adds its own parameters with TensorRT's getters and setters.
type Layer interface {
	Name() string
	SetName(name string)
	Type() LayerType
	NbInputs() int
	// Input returns input i, or nil when an optional input is not set.
	Input(i int) *Tensor
	// SetInput replaces input i, or sets an optional input. What an
	// optional input means is documented on each layer type.
	SetInput(i int, t *Tensor)
	NbOutputs() int
	Output(i int) *Tensor
	// Index is the layer's position in its network.
	Index() int
	// Location is the file:line of the user code that added the layer.
	Location() string
	Network() *Network

	base() *layerBase
	// infer checks the layer's inputs and parameters and sets its outputs'
	// types and dims; problems go to the context, never a panic.
	infer(c *inferCtx)
}

// layerBase holds what every layer has.
type layerBase struct {
	net        *Network
	self       Layer
	kind       LayerType
	index      int
	name       string
	loc        string
	inputs     []*Tensor
	outputs    []*Tensor
	nbRequired int // inputs 0..nbRequired-1 must be set; the rest are optional
	maxInputs  int // SetInput accepts indices below this
	problems   diag.List
}

func (l *layerBase) Name() string        { return l.name }
func (l *layerBase) SetName(name string) { l.name = name }
func (l *layerBase) Type() LayerType     { return l.kind }
func (l *layerBase) NbInputs() int       { return len(l.inputs) }
func (l *layerBase) NbOutputs() int      { return len(l.outputs) }
func (l *layerBase) Index() int          { return l.index }
func (l *layerBase) Location() string    { return l.loc }
func (l *layerBase) Network() *Network   { return l.net }
func (l *layerBase) base() *layerBase    { return l }
func (l *layerBase) String() string      { return fmt.Sprintf("%v %q", l.kind, l.name) }

func (l *layerBase) Input(i int) *Tensor {
	if i < 0 || i >= len(l.inputs) {
		return nil
	}
	return l.inputs[i]
}

func (l *layerBase) Output(i int) *Tensor {
	if i < 0 || i >= len(l.outputs) {
		return nil
	}
	return l.outputs[i]
}

func (l *layerBase) SetInput(i int, t *Tensor) {
	if i < 0 || i >= l.maxInputs {
		l.net.addError(callerLoc(), l.name, "%v layer %q: SetInput(%d): input index out of range [0, %d)", l.kind, l.name, i, l.maxInputs)
		return
	}
	for len(l.inputs) <= i {
		l.inputs = append(l.inputs, nil)
	}
	l.inputs[i] = t
	if t != nil && t.producer != nil && t.producer.base().index > l.index {
		l.net.forwardRefs = true
	}
	l.changed()
}

// newLayer fills the base of a freshly allocated layer and adds it to the
// network: required inputs, nbOutputs outputs, and a first inference.
// maxInputs is the number of inputs SetInput accepts (>= len(inputs)).
func (n *Network) addLayer(l Layer, kind LayerType, nbOutputs, maxInputs int, inputs ...*Tensor) {
	b := l.base()
	b.net = n
	b.self = l
	b.kind = kind
	b.index = len(n.layers)
	b.name = fmt.Sprintf("(Unnamed Layer* %d) [%v]", b.index, kind)
	b.loc = callerLoc()
	b.inputs = append([]*Tensor{}, inputs...)
	b.nbRequired = len(inputs)
	if maxInputs < len(inputs) {
		maxInputs = len(inputs)
	}
	b.maxInputs = maxInputs
	for i := 0; i < nbOutputs; i++ {
		t := n.newTensor(fmt.Sprintf("%s_output", b.name))
		if nbOutputs > 1 {
			t.name = fmt.Sprintf("%s_output_%d", b.name, i)
		}
		t.producer = l
		t.outIndex = i
		b.outputs = append(b.outputs, t)
	}
	n.layers = append(n.layers, l)
}
