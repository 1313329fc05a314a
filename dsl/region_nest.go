package dsl

// How regions relate to each other and to the rest of the network:
// nesting, cycles through a region, values leaking out of a region.

import (
	"github.com/trtc/trtc/diag"
)

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
