package dsl

// The rules a loop or if-conditional must follow, one region at a time:
// trip limits, recurrences, loop outputs, conditions, branch outputs.

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// regionErr is a structural problem reported on layer l.
func regionErr(l Layer, code diag.Code, format string, args ...any) *diag.Error {
	b := l.base()
	return &diag.Error{Code: code, Layer: b.name, Op: b.kind.String(), Index: b.index, Loc: b.loc,
		Msg: fmt.Sprintf(format, args...)}
}

// what names a region in messages.
func (r *regionAnalysis) what() string {
	if r.loop != nil {
		return fmt.Sprintf("loop %q", r.loop.name)
	}
	return fmt.Sprintf("if-conditional %q", r.cond.name)
}

// splitEscapes keeps in the region the layers of fwd that feed an exit
// (keep), and sorts the others: dead when nothing reads them, an error when
// they feed a network output (a value that leaves the region without an
// output layer).
func (n *Network) splitEscapes(r *regionAnalysis, keep layerSet) diag.List {
	var out diag.List
	r.dead = layerSet{}
	for i := range r.fwd {
		if keep[i] {
			continue
		}
		l := n.layers[i]
		for k := 0; k < l.NbOutputs(); k++ {
			if t := l.Output(k); t.isOutput {
				out = append(out, regionErr(l, diag.InvalidGraph,
					"network output %q is computed from values inside %s; only a %s layer takes values out of it",
					t.name, r.what(), map[bool]string{true: "LoopOutput", false: "ConditionalOutput"}[r.loop != nil]))
			}
		}
		r.dead[i] = true
	}
	return out
}

// bodyOutputs reports body tensors marked as network outputs: they exist
// only while the region runs.
func (n *Network) bodyOutputs(r *regionAnalysis) diag.List {
	var out diag.List
	for i := range r.body {
		l := n.layers[i]
		for k := 0; k < l.NbOutputs(); k++ {
			if t := l.Output(k); t.isOutput {
				out = append(out, regionErr(l, diag.InvalidGraph,
					"network output %q is computed inside %s; only a %s layer takes values out of it",
					t.name, r.what(), map[bool]string{true: "LoopOutput", false: "ConditionalOutput"}[r.loop != nil]))
			}
		}
	}
	return out
}

// mustBeOutside reports input k of boundary layer l when it is computed
// inside the region.
func (r *regionAnalysis) mustBeOutside(l Layer, k int, role string) *diag.Error {
	t := l.Input(k)
	if t == nil || t.net != l.Network() || t.producer == nil {
		return nil
	}
	i := t.producer.Index()
	if r.fwd[i] || (r.own[i] && t.producer.Type() != LayerLoopOutput && t.producer.Type() != LayerConditionalOutput) {
		return regionErr(l, diag.InvalidGraph, "%s %q is computed inside %s; it must come from outside", role, t.name, r.what())
	}
	return nil
}

func (n *Network) analyzeLoop(g *regionGraph, r *regionAnalysis) diag.List {
	var out diag.List
	var entries, exits, whileIn []*Tensor
	var nCount, nWhile int
	iterOut := map[int]bool{}
	for _, l := range r.boundary {
		switch b := l.(type) {
		case *RecurrenceLayer:
			entries = append(entries, b.Output(0))
			if b.next != nil {
				exits = append(exits, b.next)
			}
		case *IteratorLayer:
			entries = append(entries, b.Output(0))
			iterOut[b.Output(0).id] = true
		case *TripLimitLayer:
			switch b.kind {
			case TripLimitCount:
				nCount++
			case TripLimitWhile:
				nWhile++
				exits = append(exits, b.Input(0))
				whileIn = append(whileIn, b.Input(0))
			}
		case *LoopOutputLayer:
			exits = append(exits, b.Input(0))
		}
	}
	r.fwd = g.forward(entries, r.own)
	r.body = g.backward(exits, r.fwd)
	out = append(out, n.splitEscapes(r, r.body)...)
	out = append(out, n.bodyOutputs(r)...)

	first := r.boundary[0]
	switch {
	case nCount+nWhile == 0:
		out = append(out, regionErr(first, diag.InvalidGraph, "%s has no trip limit; add one with AddTripLimit (Count or While)", r.what()))
	case nCount > 1 || nWhile > 1:
		out = append(out, regionErr(first, diag.InvalidGraph, "%s has %d Count and %d While trip limits; at most one of each is allowed", r.what(), nCount, nWhile))
	}
	inLoop := func(t *Tensor) bool {
		if t == nil || t.producer == nil {
			return false
		}
		i := t.producer.Index()
		return r.body[i] || (r.own[i] && t.producer.Type() != LayerLoopOutput)
	}
	for _, l := range r.boundary {
		if l.Input(0) == nil || l.Input(0).net != n {
			continue // reported by the layer's own input check
		}
		var e *diag.Error
		switch b := l.(type) {
		case *RecurrenceLayer:
			e = r.mustBeOutside(l, 0, "the initial value")
			init, next := b.Input(0), b.next
			switch {
			case e != nil:
			case next == nil:
				e = regionErr(l, diag.InvalidGraph, "recurrence of %s has no next value; set it with SetInput(1, t)", r.what())
			case next.bad || init.bad:
			case next.dtype != init.dtype:
				e = regionErr(l, diag.TypeMismatch, "next value %q is %v but the initial value %q is %v; a recurrence keeps one type", next.name, next.dtype, init.name, init.dtype)
			case !recurrenceDimsCompatible(init.dims, next.dims):
				e = regionErr(l, diag.ShapeMismatch, "next value %q has dims %v but the initial value %q has %v; a recurrence keeps its dims", next.name, next.dims, init.name, init.dims)
			}
		case *IteratorLayer:
			e = r.mustBeOutside(l, 0, "the iterated tensor")
		case *TripLimitLayer:
			if b.kind == TripLimitCount {
				e = r.mustBeOutside(l, 0, "the trip count")
			} else if !inLoop(b.Input(0)) {
				e = regionErr(l, diag.InvalidGraph, "the While condition %q does not depend on a recurrence of %s, so it never changes", b.Input(0).name, r.what())
			} else if cone := g.backward(whileIn, r.body); true {
				for i := range cone {
					for k := 0; k < n.layers[i].NbInputs(); k++ {
						if t := n.layers[i].Input(k); t != nil && iterOut[t.id] {
							e = regionErr(l, diag.InvalidGraph, "the While condition of %s depends on an iterator; it may only depend on recurrences", r.what())
						}
					}
				}
				for _, t := range whileIn {
					if iterOut[t.id] {
						e = regionErr(l, diag.InvalidGraph, "the While condition of %s depends on an iterator; it may only depend on recurrences", r.what())
					}
				}
			}
		case *LoopOutputLayer:
			t := b.Input(0)
			rec, isRec := t.producer.(*RecurrenceLayer)
			isOwnRec := isRec && rec.loop == r.loop
			switch {
			case b.kind == LoopOutputLastValue && !isOwnRec:
				e = regionErr(l, diag.InvalidGraph, "a LastValue loop output takes the output of a recurrence of %s; %q is not one", r.what(), t.name)
			case !inLoop(t):
				e = regionErr(l, diag.InvalidGraph, "loop output takes %q, which is not computed inside %s", t.name, r.what())
			case b.Input(1) != nil:
				e = r.mustBeOutside(l, 1, "the concatenation length")
			}
		}
		if e != nil {
			out = append(out, e)
		}
	}
	// Values of the loop's boundary (recurrences, iterators) cannot be
	// network outputs either.
	for _, l := range r.boundary {
		if l.Type() == LayerRecurrence || l.Type() == LayerIterator {
			if t := l.Output(0); t.isOutput {
				out = append(out, regionErr(l, diag.InvalidGraph, "network output %q is a value inside %s; take it out with AddLoopOutput", t.name, r.what()))
			}
		}
	}
	return out
}

func (n *Network) analyzeCond(g *regionGraph, r *regionAnalysis) diag.List {
	var out diag.List
	var entries, trueExits, falseExits []*Tensor
	nCond, nOut := 0, 0
	for _, l := range r.boundary {
		switch l.Type() {
		case LayerCondition:
			nCond++
		case LayerConditionalInput:
			entries = append(entries, l.Output(0))
		case LayerConditionalOutput:
			nOut++
			trueExits = append(trueExits, l.Input(0))
			falseExits = append(falseExits, l.Input(1))
		}
	}
	r.fwd = g.forward(entries, r.own)
	r.trueSet = g.backward(trueExits, r.fwd)
	r.falseSet = g.backward(falseExits, r.fwd)
	r.body = layerSet{}
	for i := range r.trueSet {
		r.body[i] = true
	}
	for i := range r.falseSet {
		r.body[i] = true
	}
	out = append(out, n.splitEscapes(r, r.body)...)
	out = append(out, n.bodyOutputs(r)...)
	first := r.boundary[0]
	if nCond != 1 {
		out = append(out, regionErr(first, diag.InvalidGraph, "%s has %d conditions; call SetCondition exactly once", r.what(), nCond))
	}
	if nOut == 0 {
		out = append(out, regionErr(first, diag.InvalidGraph, "%s has no outputs; add them with AddOutput(trueValue, falseValue)", r.what()))
	}
	for _, l := range r.boundary {
		if l.Input(0) == nil || l.Input(0).net != n {
			continue // reported by the layer's own input check
		}
		var e *diag.Error
		switch l.Type() {
		case LayerCondition:
			e = r.mustBeOutside(l, 0, "the condition")
		case LayerConditionalInput:
			e = r.mustBeOutside(l, 0, "the conditional input")
			if t := l.Output(0); t.isOutput {
				out = append(out, regionErr(l, diag.InvalidGraph, "network output %q is a value inside %s; take it out with AddOutput", t.name, r.what()))
			}
		}
		if e != nil {
			out = append(out, e)
		}
	}
	// A layer of one branch cannot read a value only the other computes.
	check := func(set, other layerSet, side string) {
		for i := range set {
			if other[i] {
				continue
			}
			l := n.layers[i]
			for k := 0; k < l.NbInputs(); k++ {
				t := l.Input(k)
				if t != nil && t.producer != nil && other[t.producer.Index()] && !set[t.producer.Index()] {
					out = append(out, regionErr(l, diag.InvalidGraph, "this %s-branch layer of %s reads %q, which only the other branch computes", side, r.what(), t.name))
				}
			}
		}
	}
	check(r.trueSet, r.falseSet, "true")
	check(r.falseSet, r.trueSet, "false")
	return out
}
