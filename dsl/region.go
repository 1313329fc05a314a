package dsl

import (
	"fmt"
	"slices"

	"github.com/trtc/trtc/diag"
)

// Region is a loop or an if-conditional with the layers it runs, as the
// network's structure defines them (see Loop and IfConditional). Targets
// use it to execute a region as one unit; Regions lists them.
type Region struct {
	Loop          *Loop          // set for a loop
	IfConditional *IfConditional // set for an if-conditional
	// Boundary holds the region's own boundary layers, in network order.
	Boundary []Layer
	// Body holds every other layer that runs inside the region (for a
	// conditional, the union of both branches), nested regions' layers
	// included, in network order.
	Body []Layer
	// TrueBranch and FalseBranch split a conditional's Body; a layer both
	// branches need is in both.
	TrueBranch, FalseBranch []Layer
	// Dead holds layers that read values of the region but feed none of
	// its exits and no network output: they are never run.
	Dead []Layer
}

// Name is the loop's or conditional's name.
func (r *Region) Name() string {
	if r.Loop != nil {
		return r.Loop.name
	}
	return r.IfConditional.name
}

// Regions returns the network's loops and if-conditionals in the order of
// their first boundary layer. Call it on a network without errors (Err):
// on a malformed structure the membership is a best effort.
func (n *Network) Regions() []Region {
	n.refresh()
	info := n.analyzeRegions()
	out := make([]Region, len(info.regions))
	for i, r := range info.regions {
		out[i] = Region{Loop: r.loop, IfConditional: r.cond, Boundary: r.boundary,
			Body: n.layersOf(r.body), TrueBranch: n.layersOf(r.trueSet), FalseBranch: n.layersOf(r.falseSet),
			Dead: n.layersOf(r.dead)}
	}
	return out
}

// Loops returns the network's loops.
func (n *Network) Loops() []*Loop {
	var out []*Loop
	for _, r := range n.Regions() {
		if r.Loop != nil {
			out = append(out, r.Loop)
		}
	}
	return out
}

// IfConditionals returns the network's if-conditionals.
func (n *Network) IfConditionals() []*IfConditional {
	var out []*IfConditional
	for _, r := range n.Regions() {
		if r.IfConditional != nil {
			out = append(out, r.IfConditional)
		}
	}
	return out
}

// layerSet is a set of layer indices.
type layerSet map[int]bool

func (n *Network) layersOf(s layerSet) []Layer {
	var idx []int
	for i := range s {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	out := make([]Layer, len(idx))
	for k, i := range idx {
		out[k] = n.layers[i]
	}
	return out
}

// regionAnalysis is one region's membership while it is being computed.
type regionAnalysis struct {
	loop     *Loop
	cond     *IfConditional
	boundary []Layer
	own      layerSet // boundary layer indices
	fwd      layerSet // layers reachable from the region's entries
	body     layerSet
	trueSet  layerSet
	falseSet layerSet
	dead     layerSet
}

type regionInfo struct {
	regions  []*regionAnalysis
	problems diag.List
}

// regionGraph is who reads each tensor, through every input (recurrence
// next values included).
type regionGraph struct {
	net       *Network
	consumers map[int][]Layer
}

func (n *Network) newRegionGraph() *regionGraph {
	g := &regionGraph{net: n, consumers: map[int][]Layer{}}
	for _, l := range n.layers {
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil && t.net == n {
				g.consumers[t.id] = append(g.consumers[t.id], l)
			}
		}
	}
	return g
}

// forward returns the layers reachable from tensors, not entering stop.
func (g *regionGraph) forward(from []*Tensor, stop layerSet) layerSet {
	return g.walkForward(from, stop, false)
}

// walkForward is forward, optionally not following a recurrence's next
// value (a value for the next iteration, not a dependency of this one).
func (g *regionGraph) walkForward(from []*Tensor, stop layerSet, skipBack bool) layerSet {
	seen := layerSet{}
	work := append([]*Tensor{}, from...)
	for len(work) > 0 {
		t := work[len(work)-1]
		work = work[:len(work)-1]
		for _, c := range g.consumers[t.id] {
			i := c.Index()
			if seen[i] || stop[i] {
				continue
			}
			if r, ok := c.(*RecurrenceLayer); ok && skipBack && r.next == t && r.Input(0) != t {
				continue
			}
			seen[i] = true
			for k := 0; k < c.NbOutputs(); k++ {
				work = append(work, c.Output(k))
			}
		}
	}
	return seen
}

// backward returns the layers within among the producers (transitively) of
// tensors.
func (g *regionGraph) backward(from []*Tensor, within layerSet) layerSet {
	seen := layerSet{}
	work := append([]*Tensor{}, from...)
	for len(work) > 0 {
		t := work[len(work)-1]
		work = work[:len(work)-1]
		if t == nil || t.net != g.net || t.producer == nil {
			continue
		}
		i := t.producer.Index()
		if seen[i] || !within[i] {
			continue
		}
		// A value leaving a nested region also depends on that region's
		// condition or trip limits, layers without outputs.
		for _, l := range append([]Layer{t.producer}, regionBoundaryOf(t.producer)...) {
			if j := l.Index(); !seen[j] && within[j] {
				seen[j] = true
				for k := 0; k < l.NbInputs(); k++ {
					work = append(work, l.Input(k))
				}
			}
		}
	}
	return seen
}

// regionBoundaryOf returns the boundary layers of the region l is a
// boundary layer of, or nil.
func regionBoundaryOf(l Layer) []Layer {
	switch b := l.(type) {
	case interface{ Loop() *Loop }:
		return b.Loop().boundary
	case interface{ Conditional() *IfConditional }:
		return b.Conditional().boundary
	}
	return nil
}

// collectRegions finds every loop and conditional through their boundary
// layers, in network order.
func (n *Network) collectRegions() []*regionAnalysis {
	var out []*regionAnalysis
	loops := map[*Loop]*regionAnalysis{}
	conds := map[*IfConditional]*regionAnalysis{}
	for _, l := range n.layers {
		var r *regionAnalysis
		switch b := l.(type) {
		case interface{ Loop() *Loop }:
			if r = loops[b.Loop()]; r == nil {
				r = &regionAnalysis{loop: b.Loop()}
				loops[b.Loop()] = r
				out = append(out, r)
			}
		case interface{ Conditional() *IfConditional }:
			if r = conds[b.Conditional()]; r == nil {
				r = &regionAnalysis{cond: b.Conditional()}
				conds[b.Conditional()] = r
				out = append(out, r)
			}
		default:
			continue
		}
		r.boundary = append(r.boundary, l)
	}
	for _, r := range out {
		r.own = layerSet{}
		for _, l := range r.boundary {
			r.own[l.Index()] = true
		}
	}
	return out
}

// analyzeRegions computes every region's members and the problems with
// its structure.
func (n *Network) analyzeRegions() *regionInfo {
	info := &regionInfo{regions: n.collectRegions()}
	g := n.newRegionGraph()
	for _, r := range info.regions {
		if r.loop != nil {
			info.problems = append(info.problems, n.analyzeLoop(g, r)...)
		} else {
			info.problems = append(info.problems, n.analyzeCond(g, r)...)
		}
	}
	info.problems = append(info.problems, n.nestRegions(info.regions)...)
	info.problems = append(info.problems, n.regionCycles(g, info.regions)...)
	info.problems = append(info.problems, n.regionLeaks(info.regions)...)
	return info
}

// regionLeaks reports layers outside a region that read a value only the
// region computes (a body tensor, a recurrence or iterator value, a
// conditional input): such values exist only while the region runs.
func (n *Network) regionLeaks(rs []*regionAnalysis) diag.List {
	var out diag.List
	all := make([]layerSet, len(rs))
	for k, r := range rs {
		all[k] = r.members()
	}
	inOther := func(i, skip int) bool {
		for k := range rs {
			if k != skip && all[k][i] {
				return true
			}
		}
		return false
	}
	for k, r := range rs {
		for _, l := range n.layers {
			i := l.Index()
			if all[k][i] || (r.dead[i] && !inOther(i, k)) {
				continue
			}
			for j := 0; j < l.NbInputs(); j++ {
				t := l.Input(j)
				if t == nil || t.producer == nil {
					continue
				}
				p := t.producer
				if !all[k][p.Index()] || ((p.Type() == LayerLoopOutput || p.Type() == LayerConditionalOutput) && r.own[p.Index()]) {
					continue
				}
				out = append(out, regionErr(l, diag.InvalidGraph,
					"this layer is outside %s but reads %q, a value computed inside it; use a %s to take it out",
					r.what(), t.name, map[bool]string{true: "LoopOutput", false: "ConditionalOutput"}[r.loop != nil]))
				break
			}
		}
	}
	return out
}

// regionCycles reports regions whose outputs flow, through layers outside
// them, back into the region: no execution order exists for them.
func (n *Network) regionCycles(g *regionGraph, rs []*regionAnalysis) diag.List {
	var out diag.List
	for _, r := range rs {
		var outs []*Tensor
		for _, l := range r.boundary {
			if l.Type() == LayerLoopOutput || l.Type() == LayerConditionalOutput {
				outs = append(outs, l.Output(0))
			}
		}
		m := r.members()
		for i := range g.walkForward(outs, nil, true) {
			if m[i] {
				out = append(out, regionErr(n.layers[i], diag.InvalidGraph,
					"this layer of %s reads a value computed from an output of %s itself (a cycle)", r.what(), r.what()))
				break
			}
		}
	}
	return out
}

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

// members is a region's own boundary and body.
func (r *regionAnalysis) members() layerSet {
	m := layerSet{}
	for i := range r.own {
		m[i] = true
	}
	for i := range r.body {
		m[i] = true
	}
	return m
}

// nestRegions makes regions nest: when a boundary layer of region s lies
// in the body of r, s is inside r and all of s (boundary and body) is in
// r's body. Two regions whose bodies share layers without one being inside
// the other, or that are each inside the other, overlap: an error.
func (n *Network) nestRegions(rs []*regionAnalysis) diag.List {
	var out diag.List
	bad := map[[2]int]bool{}
	inside := func(s, r *regionAnalysis) bool { // s's boundary touches r's body
		for i := range s.own {
			if r.body[i] {
				return true
			}
		}
		return false
	}
	for changed, rounds := true, 0; changed && rounds <= len(rs)+1; rounds++ {
		changed = false
		for a, r := range rs {
			for b, s := range rs {
				key := [2]int{min(a, b), max(a, b)}
				if a == b || bad[key] || !inside(s, r) {
					continue
				}
				if inside(r, s) {
					bad[key] = true
					out = append(out, regionErr(r.boundary[0], diag.InvalidGraph,
						"%s and %s overlap: each uses values of the other without one being inside the other", r.what(), s.what()))
					continue
				}
				ms := s.members()
				inT, inF := false, false
				for j := range ms {
					inT = inT || r.trueSet[j]
					inF = inF || r.falseSet[j]
				}
				for i := range ms {
					if r.body[i] {
						continue
					}
					r.body[i] = true
					delete(r.dead, i)
					changed = true
					// s sits in the branches that already hold part of it.
					if inT {
						r.trueSet[i] = true
					}
					if inF {
						r.falseSet[i] = true
					}
				}
			}
		}
	}
	// Bodies that share layers must be nested.
	for a, r := range rs {
		for b := a + 1; b < len(rs); b++ {
			s := rs[b]
			if bad[[2]int{a, b}] || inside(s, r) || inside(r, s) {
				continue
			}
			for i := range r.body {
				if s.body[i] {
					out = append(out, regionErr(n.layers[i], diag.InvalidGraph,
						"this layer uses values of both %s and %s, which are not nested", r.what(), s.what()))
					break
				}
			}
		}
	}
	return out
}

// regionProblems are the structural errors of the network's loops and
// if-conditionals (called by graphProblems).
func (n *Network) regionProblems() diag.List { return n.analyzeRegions().problems }
