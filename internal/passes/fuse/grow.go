package fuse

import (
	"slices"

	"github.com/trtc/trtc/dsl"
)

// grow collects the free eligible layers connected to seed through the
// consumers of its members (and, with backward, through the producers of
// their inputs), then cuts the largest valid group out of them (prune).
func (g *graph) grow(seed dsl.Layer, eligible func(dsl.Layer) bool, backward bool) []dsl.Layer {
	in := map[dsl.Layer]bool{seed: true}
	queue := []dsl.Layer{seed}
	add := func(l dsl.Layer) {
		if l != nil && !in[l] && g.free(l) && eligible(l) {
			in[l] = true
			queue = append(queue, l)
		}
	}
	for len(queue) > 0 {
		l := queue[0]
		queue = queue[1:]
		for _, c := range g.consumers[l.Output(0)] {
			add(c)
		}
		if backward {
			for j := 0; j < l.NbInputs(); j++ {
				if t := l.Input(j); t != nil {
					p, _ := t.Producer()
					add(p)
				}
			}
		}
	}
	return g.prune(in)
}

// prune returns the largest valid group inside the candidate set in: one
// sink (the only member whose output is read outside or is a network
// output), every other member read only by members, single-rooted. For
// each candidate sink s it keeps s's ancestors in the set, drops those
// read outside until none is, then drops members that read no earlier
// member (a second root); the largest result wins.
func (g *graph) prune(in map[dsl.Layer]bool) []dsl.Layer {
	var best []dsl.Layer
	for _, s := range g.escaping(in) {
		c := g.cone(in, s)
		if len(c) > len(best) {
			best = c
		}
	}
	return best
}

// escaping lists the members of in whose output leaves the set, in
// execution order (a later sink wins ties in prune).
func (g *graph) escaping(in map[dsl.Layer]bool) []dsl.Layer {
	var out []dsl.Layer
	for m := range in {
		if g.escapes(m, in) {
			out = append(out, m)
		}
	}
	g.sortByPos(out)
	slices.Reverse(out)
	return out
}

func (g *graph) escapes(m dsl.Layer, in map[dsl.Layer]bool) bool {
	t := m.Output(0)
	cs := g.consumers[t]
	if t.IsNetworkOutput() || len(cs) == 0 {
		return true
	}
	for _, c := range cs {
		if !in[c] {
			return true
		}
	}
	return false
}

func (g *graph) cone(in map[dsl.Layer]bool, s dsl.Layer) []dsl.Layer {
	a := map[dsl.Layer]bool{s: true}
	stack := []dsl.Layer{s}
	for len(stack) > 0 {
		l := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for j := 0; j < l.NbInputs(); j++ {
			if t := l.Input(j); t != nil {
				if p, _ := t.Producer(); p != nil && in[p] && !a[p] {
					a[p] = true
					stack = append(stack, p)
				}
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for m := range a {
			if m != s && g.escapes(m, a) {
				delete(a, m)
				changed = true
			}
		}
	}
	// Dropping a second root never makes a kept member escape: what it
	// read from the group was dropped before it.
	sorted := make([]dsl.Layer, 0, len(a))
	for m := range a {
		sorted = append(sorted, m)
	}
	g.sortByPos(sorted)
	kept := map[dsl.Layer]bool{}
	var out []dsl.Layer
	for i, m := range sorted {
		if i == 0 || readsMember(m, kept) {
			kept[m] = true
			out = append(out, m)
		}
	}
	return out
}
