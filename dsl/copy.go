package dsl

import (
	"fmt"
	"reflect"
)

// CopyLayer adds to n a layer of src's kind with src's name and parameters
// (every setting and weight), reading inputs instead of src's inputs. It is
// how compiler passes rebuild a network: walk the old network in TopoLayers
// order, copy what stays, add new layers for what changes.
//
// inputs has one entry per input of src (nil leaves an optional input, or a
// recurrence's next value, unset; set it later with SetInput). The copy's
// outputs get src's output names. A loop or conditional boundary layer joins
// the copy of its loop or conditional in n, created the first time one of
// its layers is copied, so a whole region is copied by copying its layers.
// Weights are shared, not duplicated: they are immutable once handed to a
// layer.
func (n *Network) CopyLayer(src Layer, inputs []*Tensor) Layer {
	if src == nil {
		n.addError(callerLoc(), "", "CopyLayer with a nil layer")
		return nil
	}
	sb := src.base()
	if len(inputs) != src.NbInputs() {
		n.addError(callerLoc(), sb.name, "CopyLayer of %v layer %q: %d inputs given, the layer has %d", sb.kind, sb.name, len(inputs), src.NbInputs())
		return nil
	}
	for i, t := range inputs {
		if t != nil && t.net != n {
			n.addError(callerLoc(), sb.name, "CopyLayer of %v layer %q: input %d (%q) belongs to network %q, not %q", sb.kind, sb.name, i, t.name, t.net.name, n.name)
			return nil
		}
	}

	// A shallow copy of the concrete struct carries every parameter; the
	// base and the pointers into the old network are then replaced.
	v := reflect.ValueOf(src).Elem()
	cp := reflect.New(v.Type())
	cp.Elem().Set(v)
	l := cp.Interface().(Layer)
	b := l.base()
	*b = layerBase{kind: sb.kind, name: sb.name, loc: sb.loc, nbRequired: sb.nbRequired, maxInputs: sb.maxInputs}
	b.net, b.self, b.index = n, l, len(n.layers)
	for i, o := range sb.outputs {
		t := n.newTensor(o.name)
		t.producer, t.outIndex = l, i
		b.outputs = append(b.outputs, t)
	}
	if w, ok := l.(interface{ window() *spatialWindow }); ok {
		w.window().owner = b
	}
	n.layers = append(n.layers, l)
	n.joinCopiedRegion(l)

	if r, ok := l.(*RecurrenceLayer); ok {
		r.next = nil
		if len(inputs) > 1 && inputs[1] != nil {
			r.next = inputs[1]
		}
		inputs = inputs[:1]
	}
	b.inputs = make([]*Tensor, len(inputs))
	for i, t := range inputs {
		b.inputs[i] = t
		if t != nil && t.producer != nil && t.producer.base().index > b.index {
			n.forwardRefs = true
		}
	}
	if b.index < n.staleFrom {
		n.staleFrom = b.index
	}
	return l
}

func (w *spatialWindow) window() *spatialWindow { return w }

// joinCopiedRegion moves a copied boundary layer from its source loop or
// conditional to that region's copy in n.
func (n *Network) joinCopiedRegion(l Layer) {
	if n.regionCopies == nil {
		n.regionCopies = map[any]any{}
	}
	switch b := l.(type) {
	case interface{ loopPtr() **Loop }:
		p := b.loopPtr()
		dst, ok := n.regionCopies[*p].(*Loop)
		if !ok {
			dst = &Loop{net: n, name: (*p).name}
			n.regionCopies[*p] = dst
		}
		*p = dst
		dst.add(l)
	case interface{ condPtr() **IfConditional }:
		p := b.condPtr()
		dst, ok := n.regionCopies[*p].(*IfConditional)
		if !ok {
			dst = &IfConditional{net: n, name: (*p).name}
			n.regionCopies[*p] = dst
		}
		*p = dst
		dst.add(l)
	}
}

func (b *loopBoundary) loopPtr() **Loop          { return &b.loop }
func (b *condBoundary) condPtr() **IfConditional { return &b.cond }

// CopyNetworkIO adds to n an input for every input of src (same name, type
// and dims) and returns the map from src's tensors to n's, for a rebuild
// that then copies layers.
func (n *Network) CopyNetworkIO(src *Network) map[*Tensor]*Tensor {
	m := make(map[*Tensor]*Tensor, len(src.tensors))
	for _, in := range src.inputs {
		t := n.newTensor(in.name)
		t.isInput, t.dtype, t.dims, t.bad = true, in.dtype, in.dims.Clone(), in.bad
		n.inputs = append(n.inputs, t)
		m[in] = t
	}
	n.name = src.name
	return m
}

// String names a layer for messages: `Convolution "conv1"`.
func LayerString(l Layer) string {
	if l == nil {
		return "<nil layer>"
	}
	return fmt.Sprintf("%v %q", l.Type(), l.Name())
}
