package ir

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Rebuilder copies a network layer by layer into a new one, so a pass can
// replace what it matches and copy the rest. Typical use:
//
//	r := ir.NewRebuilder(g.Net)
//	for _, l := range g.Net.TopoLayers() {
//		if matched(l) {
//			y := r.Dst.AddActivation(r.Map(l.Input(0)), ...).Output(0)
//			r.Alias(l.Output(0), y)
//			continue
//		}
//		r.Copy(l)
//	}
//	net, err := r.Finish()
type Rebuilder struct {
	Src, Dst *dsl.Network
	m        map[*dsl.Tensor]*dsl.Tensor
	pending  []pendingInput
	// deferred layers are copied when CopyDeferred first asks for one
	// of their outputs (see Defer).
	deferred map[dsl.Layer]bool
}

// pendingInput is an input whose producer had not been copied when its
// consumer was (a loop back edge, or a forward reference).
type pendingInput struct {
	layer dsl.Layer
	index int
	src   *dsl.Tensor
}

// NewRebuilder starts a copy of src with the same inputs.
func NewRebuilder(src *dsl.Network) *Rebuilder {
	dst := dsl.NewNetwork()
	return &Rebuilder{Src: src, Dst: dst, m: dst.CopyNetworkIO(src), deferred: map[dsl.Layer]bool{}}
}

// Defer holds l back: it is copied only when CopyDeferred asks for its
// output, so a layer (typically a Constant) read only by layers a pass
// drops disappears with them.
func (r *Rebuilder) Defer(l dsl.Layer) { r.deferred[l] = true }

// Deferred reports whether l is held back and not copied yet.
func (r *Rebuilder) Deferred(l dsl.Layer) bool { return r.deferred[l] }

// CopyDeferred copies the held-back producer of t, if t has one.
func (r *Rebuilder) CopyDeferred(t *dsl.Tensor) {
	if l, _ := t.Producer(); l != nil && r.deferred[l] {
		delete(r.deferred, l)
		r.Copy(l)
	}
}

// Map returns the tensor of the new network that stands for t, nil when t
// is nil or not produced yet.
func (r *Rebuilder) Map(t *dsl.Tensor) *dsl.Tensor {
	if t == nil {
		return nil
	}
	return r.m[t]
}

// Mapped reports whether t has a counterpart in the new network yet.
func (r *Rebuilder) Mapped(t *dsl.Tensor) bool { _, ok := r.m[t]; return ok }

// Alias makes dst (a tensor of the new network) stand for src (a tensor of
// the old one): consumers of src copied later read dst.
func (r *Rebuilder) Alias(src, dst *dsl.Tensor) { r.m[src] = dst }

// Copy copies l with its inputs mapped and maps its outputs to the copy's.
func (r *Rebuilder) Copy(l dsl.Layer) dsl.Layer {
	in := make([]*dsl.Tensor, l.NbInputs())
	var later []pendingInput
	for i := range in {
		t := l.Input(i)
		if t == nil {
			continue
		}
		if mt, ok := r.m[t]; ok {
			in[i] = mt
		} else {
			later = append(later, pendingInput{index: i, src: t})
		}
	}
	c := r.Dst.CopyLayer(l, in)
	if c == nil {
		return nil
	}
	for _, p := range later {
		p.layer = c
		r.pending = append(r.pending, p)
	}
	for i := 0; i < l.NbOutputs(); i++ {
		r.m[l.Output(i)] = c.Output(i)
	}
	return c
}

// Finish patches inputs whose producers were copied after their consumers,
// marks the outputs (each keeps its name: it is an engine binding) and
// returns the new network, or its problems.
func (r *Rebuilder) Finish() (*dsl.Network, error) {
	for _, p := range r.pending {
		t, ok := r.m[p.src]
		if !ok {
			return nil, diag.Errorf(diag.Internal, "rebuild of %q: input %d of %s (%q) was never produced", r.Src.Name(), p.index, dsl.LayerString(p.layer), p.src.Name())
		}
		p.layer.SetInput(p.index, t)
	}
	marked := map[*dsl.Tensor]bool{}
	for _, o := range r.Src.Outputs() {
		t, ok := r.m[o]
		if !ok {
			return nil, diag.Errorf(diag.Internal, "rebuild of %q: output %q was never produced", r.Src.Name(), o.Name())
		}
		// An output must be its own tensor: not a network input, not
		// another output, with the binding's name.
		if t.IsNetworkInput() || marked[t] {
			id := r.Dst.AddIdentity(t)
			id.SetName(o.Name() + "_copy")
			t = id.Output(0)
		}
		t.SetName(o.Name())
		marked[t] = true
		r.Dst.MarkOutput(t)
	}
	if err := r.Dst.Err(); err != nil {
		return nil, fmt.Errorf("rebuild of %q: %w", r.Src.Name(), err)
	}
	return r.Dst, nil
}
