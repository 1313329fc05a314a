package dsl

import (
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
