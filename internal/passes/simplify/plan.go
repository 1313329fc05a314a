// Package simplify holds the passes that make a network smaller without
// changing a single bit of what it computes: DeadLayers (layers no output
// needs), CSE (layers computed twice) and Identities (layers that do
// nothing: identities, casts to the same type or through a wider one, no-op
// and consecutive shuffles, cancelling squeeze/unsqueeze pairs).
//
// CSE and Identities decide everything over the source network first (a
// plan: for each layer, copy it, drop it, let its outputs stand for other
// tensors, or build a replacement), then rebuild once. Deciding first lets
// a rewrite see through earlier ones (a chain of three casts merges into
// one) and drop the layers a rewrite left without readers, without ever
// building a half-rewritten network.
//
// Layers of loops and conditionals are left alone: they are copied as
// they are (DeadLayers keeps or drops a region whole).
package simplify

import (
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

type actKind int

const (
	actCopy  actKind = iota // copy the layer as it is
	actAlias                // emit nothing; each output stands for another tensor (repr)
	actBuild                // emit a replacement built from a spec
	actSkip                 // emit nothing: no reader is left
)

// spec is a replacement layer, described over the source network.
type spec interface {
	// reads lists the source tensors the replacement reads.
	reads() []*dsl.Tensor
	// build adds the replacement to r.Dst and returns it.
	build(r *ir.Rebuilder) dsl.Layer
}

type action struct {
	kind actKind
	spec spec // actBuild
}

// plan is a rewrite of src decided before anything is built.
type plan struct {
	src      *dsl.Network
	order    []dsl.Layer
	inRegion map[dsl.Layer]bool
	act      map[dsl.Layer]*action
	// repr maps a source tensor to the source tensor that now stands for
	// it (an alias); res follows the chain.
	repr map[*dsl.Tensor]*dsl.Tensor
	// uses counts, per resolved tensor, the readers left plus one when it
	// is a network output; orig is the count before any rewrite.
	uses, orig map[*dsl.Tensor]int
	// claimed holds the resolved tensors that carry a network output: a
	// second output, or a network input, cannot be the same tensor (the
	// Rebuilder would insert an Identity, undoing the rewrite).
	claimed map[*dsl.Tensor]bool
	changed bool
}

func newPlan(net *dsl.Network) *plan {
	p := &plan{src: net, order: net.TopoLayers(), inRegion: regionMembers(net),
		act: map[dsl.Layer]*action{}, repr: map[*dsl.Tensor]*dsl.Tensor{},
		uses: map[*dsl.Tensor]int{}, orig: map[*dsl.Tensor]int{}, claimed: map[*dsl.Tensor]bool{}}
	for _, l := range p.order {
		p.act[l] = &action{}
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil {
				p.uses[t]++
			}
		}
	}
	for _, o := range net.Outputs() {
		p.uses[o]++
		p.claimed[o] = true
	}
	for t, n := range p.uses {
		p.orig[t] = n
	}
	return p
}

// regionMembers is every layer of a loop or conditional: boundary, body,
// and the dead layers that read the region's values.
func regionMembers(net *dsl.Network) map[dsl.Layer]bool { return ir.RegionMembers(net) }

// res returns the tensor that stands for t after the rewrites so far.
func (p *plan) res(t *dsl.Tensor) *dsl.Tensor {
	for {
		u, ok := p.repr[t]
		if !ok || u == t {
			return t
		}
		t = u
	}
}

// producer returns the layer that computes the resolved tensor t, when it
// is a layer outside regions, with its action.
func (p *plan) producer(t *dsl.Tensor) (dsl.Layer, *action) {
	l, _ := t.Producer()
	if l == nil || p.inRegion[l] {
		return nil, nil
	}
	return l, p.act[l]
}

// reads lists the source tensors l's action reads.
func (p *plan) reads(l dsl.Layer) []*dsl.Tensor {
	a := p.act[l]
	switch a.kind {
	case actCopy:
		var out []*dsl.Tensor
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil {
				out = append(out, t)
			}
		}
		return out
	case actBuild:
		return a.spec.reads()
	}
	return nil
}

// alias makes l's outputs stand for targets (source tensors computed
// before l), so l is not emitted. It declines, changing nothing, when a
// target differs in type or dims from the output it would stand for, or
// when an output would become a network input or another output.
func (p *plan) alias(l dsl.Layer, targets ...*dsl.Tensor) bool {
	if len(targets) != l.NbOutputs() || len(targets) == 0 {
		return false
	}
	res := make([]*dsl.Tensor, len(targets))
	taken := map[*dsl.Tensor]bool{}
	for i, t := range targets {
		out := l.Output(i)
		res[i] = p.res(t)
		if res[i] == out || res[i].Type() != out.Type() || !res[i].Dims().Equal(out.Dims()) {
			return false
		}
		if out.IsNetworkOutput() {
			if res[i].IsNetworkInput() || p.claimed[res[i]] || taken[res[i]] {
				return false
			}
			taken[res[i]] = true
		}
	}
	for _, t := range p.reads(l) {
		p.uses[p.res(t)]--
	}
	for i, t := range res {
		out := l.Output(i)
		p.repr[out] = t
		p.uses[t] += p.uses[out]
		p.uses[out] = 0
		if p.claimed[out] {
			delete(p.claimed, out)
			p.claimed[t] = true
		}
	}
	p.act[l] = &action{kind: actAlias}
	p.changed = true
	return true
}

// replace makes l emit s instead of a copy of itself.
func (p *plan) replace(l dsl.Layer, s spec) {
	for _, t := range p.reads(l) {
		p.uses[p.res(t)]--
	}
	for _, t := range s.reads() {
		p.uses[p.res(t)]++
	}
	p.act[l] = &action{kind: actBuild, spec: s}
	p.changed = true
}

// dropUnread skips, from the last layer back, the layers outside regions
// whose outputs the rewrites left without readers. Layers that had no
// readers to begin with stay: removing them is DeadLayers' business, and
// layers without outputs (assertions) always stay.
func (p *plan) dropUnread() {
	for i := len(p.order) - 1; i >= 0; i-- {
		l := p.order[i]
		a := p.act[l]
		if p.inRegion[l] || l.NbOutputs() == 0 || (a.kind != actCopy && a.kind != actBuild) {
			continue
		}
		unread, hadReaders := true, false
		for k := 0; k < l.NbOutputs(); k++ {
			o := l.Output(k)
			unread = unread && p.uses[o] == 0
			hadReaders = hadReaders || p.orig[o] > 0
		}
		if !unread || !hadReaders {
			continue
		}
		for _, t := range p.reads(l) {
			p.uses[p.res(t)]--
		}
		p.act[l] = &action{kind: actSkip}
		p.changed = true
	}
}

// apply builds the planned network; it returns g itself when the plan
// changes nothing.
func (p *plan) apply(g *ir.Graph) (*ir.Graph, error) {
	if !p.changed {
		return g, nil
	}
	r := ir.NewRebuilder(p.src)
	for _, l := range p.order {
		a := p.act[l]
		switch a.kind {
		case actCopy:
			r.Copy(l)
		case actAlias:
			for k := 0; k < l.NbOutputs(); k++ {
				o := l.Output(k)
				t := r.Map(p.res(o))
				if t == nil {
					return nil, diag.Errorf(diag.Internal, "simplify: %s stands for %q, which was not built", dsl.LayerString(l), p.res(o).Name())
				}
				r.Alias(o, t)
			}
		case actBuild:
			nl := a.spec.build(r)
			if nl == nil || nl.NbOutputs() != l.NbOutputs() {
				return nil, diag.Errorf(diag.Internal, "simplify: the replacement of %s was not built", dsl.LayerString(l))
			}
			for k := 0; k < l.NbOutputs(); k++ {
				o, n := l.Output(k), nl.Output(k)
				if o.Type() != n.Type() || !o.Dims().Equal(n.Dims()) {
					return nil, diag.Errorf(diag.Internal, "simplify: the replacement %s of %s computes %v %v, not %v %v",
						dsl.LayerString(nl), dsl.LayerString(l), n.Type(), n.Dims(), o.Type(), o.Dims())
				}
				r.Alias(o, n)
			}
		}
	}
	net, err := r.Finish()
	if err != nil {
		return nil, err
	}
	return g.Derive(net), nil
}

// joinNames names a layer that replaces several: "a+b+c".
func joinNames(names []string) string { return strings.Join(names, "+") }
