// Package fuse groups layers a GPU target runs as one kernel. It does not
// rewrite the network: it annotates it with ir.Fusion groups (the fused
// kinds of internal/ir/fused.go), so the CPU engine's answer cannot change,
// and the CUDA target generates one kernel per group.
//
// The grouping is a pattern table (tinygrad style): each pattern is a small
// function that, given a seed layer, returns the member layers of a group
// or nil for "no match". Patterns run in priority order, each over every
// seed in execution order before the next pattern starts, so a specific
// pattern (a convolution with its residual add) claims its layers before a
// generic one (a pointwise chain) sees them; a layer belongs to at most one
// group.
//
// Every group has at least two layers, is single-rooted (its members, in
// execution order, each read an output of an earlier member: what ir.Check
// calls connected) and convex (no path leaves the group and comes back), so
// the graph of groups and remaining layers is acyclic and a target can
// schedule it in topological order; Fusions are listed in such an order.
// Apart from the skip-add of a normalization, a group's only output is its
// last member's: every other member's output is read only inside the group
// and is not a network output, so the kernel never writes it.
//
// Layers inside loops and conditionals (net.Regions()) are never fused, nor
// are layers computing only on shapes and constants (no network input's
// values reach them): those are build-time arithmetic for the fold pass or
// the shape machinery, not kernels.
package fuse

import (
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// Pattern is one entry of the fusion table.
type Pattern struct {
	Name string
	Kind ir.FusedKind
	// match returns the group seeded at seed (in any order; Fuse sorts it),
	// or nil. It only returns free layers (graph.free).
	match func(g *graph, seed dsl.Layer) []dsl.Layer
}

// table is the fusion patterns in priority order. conv+residual comes
// before conv+bias+activation because it extends it: the other way round,
// the shorter match would always win and a residual block would never
// fuse its add.
var table = []Pattern{
	{"conv+residual", ir.FusedConvResidual, matchConvResidual},
	{"conv+bias+activation", ir.FusedConvBiasActivation, matchConvBiasActivation},
	{"matmul+bias+activation", ir.FusedMatMulBiasActivation, matchMatMulBiasActivation},
	{"softmax", ir.FusedSoftMax, matchSoftMax},
	{"normalization", ir.FusedNormalization, matchNormalization},
	{"reduce chain", ir.FusedReduceChain, matchReduceChain},
	{"pointwise", ir.FusedPointwise, matchPointwise},
}

// Table returns the fusion patterns in priority order.
func Table() []Pattern { return slices.Clone(table) }

// Patterns returns the patterns' names in priority order, for documentation
// and build summaries.
func Patterns() []string {
	out := make([]string, len(table))
	for i, p := range table {
		out[i] = p.Name
	}
	return out
}

// Fuse returns g with the fusion groups the pattern table finds added to
// g.Fusions; layers already in a fusion of g stay where they are. The
// network is not modified (the result shares g.Net). When nothing matches
// it returns g itself.
func Fuse(g *ir.Graph, o ir.Options) (*ir.Graph, error) {
	if g == nil || g.Net == nil {
		return nil, diag.Errorf(diag.Internal, "fuse: nil graph")
	}
	if err := g.Net.Err(); err != nil {
		return nil, err
	}
	gr := newGraph(g.Net)
	for _, f := range g.Fusions {
		for _, l := range f.Layers {
			gr.claimed[l] = true
		}
	}
	var found []ir.Fusion
	for _, p := range table {
		for _, seed := range gr.topo {
			if !gr.free(seed) {
				continue
			}
			ms := p.match(gr, seed)
			if len(ms) < 2 || !gr.acceptable(ms) {
				continue
			}
			gr.sortByPos(ms)
			for _, m := range ms {
				gr.claimed[m] = true
			}
			found = append(found, ir.Fusion{Kind: p.Kind, Layers: ms})
		}
	}
	if len(found) == 0 {
		return g, nil
	}
	ng := *g
	ng.Precisions = make(map[string]ir.PrecisionDecision, len(g.Precisions))
	for k, v := range g.Precisions {
		ng.Precisions[k] = v
	}
	ng.Fusions = gr.schedule(append(slices.Clone(g.Fusions), found...))
	return &ng, nil
}

// graph is what the patterns read: the network in execution order, who
// consumes each tensor, and which layers are still free to fuse.
type graph struct {
	topo      []dsl.Layer
	pos       map[dsl.Layer]int
	consumers map[*dsl.Tensor][]dsl.Layer // distinct layers reading the tensor
	inRegion  map[dsl.Layer]bool
	claimed   map[dsl.Layer]bool
	data      map[*dsl.Tensor]bool // a network input's values reach the tensor
}

func newGraph(net *dsl.Network) *graph {
	g := &graph{
		topo:      net.TopoLayers(),
		pos:       map[dsl.Layer]int{},
		consumers: map[*dsl.Tensor][]dsl.Layer{},
		inRegion:  map[dsl.Layer]bool{},
		claimed:   map[dsl.Layer]bool{},
		data:      map[*dsl.Tensor]bool{},
	}
	for i, l := range g.topo {
		g.pos[l] = i
		for j := 0; j < l.NbInputs(); j++ {
			t := l.Input(j)
			if t == nil || slices.Contains(g.consumers[t], l) {
				continue
			}
			g.consumers[t] = append(g.consumers[t], l)
		}
	}
	for _, t := range net.Inputs() {
		g.data[t] = true
	}
	// One sweep in execution order; a loop back edge read before its
	// producer is swept counts as no data, which only matters inside
	// regions, and those are never fused.
	for _, l := range g.topo {
		dep := false
		if l.Type() != dsl.LayerShape {
			for j := 0; j < l.NbInputs(); j++ {
				if t := l.Input(j); t != nil && g.data[t] {
					dep = true
				}
			}
		}
		for j := 0; j < l.NbOutputs(); j++ {
			g.data[l.Output(j)] = dep
		}
	}
	for l := range ir.RegionMembers(net) {
		g.inRegion[l] = true
	}
	return g
}

// free reports whether l may join a new group: a single-output layer on
// data, in no region and in no group yet.
func (g *graph) free(l dsl.Layer) bool {
	return l != nil && !g.claimed[l] && !g.inRegion[l] && l.NbOutputs() == 1 && g.data[l.Output(0)]
}

// only returns the one layer that reads t, or nil when t has several
// readers, none, or is a network output (then it must be written).
func (g *graph) only(t *dsl.Tensor) dsl.Layer {
	if t == nil || t.IsNetworkOutput() {
		return nil
	}
	if cs := g.consumers[t]; len(cs) == 1 {
		return cs[0]
	}
	return nil
}

func (g *graph) sortByPos(ls []dsl.Layer) {
	slices.SortFunc(ls, func(a, b dsl.Layer) int { return g.pos[a] - g.pos[b] })
}

// acceptable is the last word on a match, whatever pattern made it: the
// members are distinct free layers, single-rooted and convex. Patterns are
// written to produce only such groups; this keeps a mistake in one from
// reaching a target.
func (g *graph) acceptable(ms []dsl.Layer) bool {
	in := map[dsl.Layer]bool{}
	for _, m := range ms {
		if in[m] || !g.free(m) {
			return false
		}
		in[m] = true
	}
	sorted := slices.Clone(ms)
	g.sortByPos(sorted)
	if !rooted(sorted, in) {
		return false
	}
	return g.convex(sorted, in)
}

// rooted reports whether every member after the first reads an output of
// an earlier one (sorted is in execution order).
func rooted(sorted []dsl.Layer, in map[dsl.Layer]bool) bool {
	for i, m := range sorted {
		if i > 0 && !readsMember(m, in) {
			return false
		}
	}
	return true
}

func readsMember(l dsl.Layer, in map[dsl.Layer]bool) bool {
	for j := 0; j < l.NbInputs(); j++ {
		if t := l.Input(j); t != nil {
			if p, _ := t.Producer(); p != nil && in[p] {
				return true
			}
		}
	}
	return false
}

// convex reports whether no path leaves the group and re-enters it. Such a
// path runs through layers placed between two members, so the search stops
// at the last member's position.
func (g *graph) convex(sorted []dsl.Layer, in map[dsl.Layer]bool) bool {
	last := g.pos[sorted[len(sorted)-1]]
	seen := map[dsl.Layer]bool{}
	var stack []dsl.Layer
	push := func(l dsl.Layer) {
		for j := 0; j < l.NbOutputs(); j++ {
			for _, c := range g.consumers[l.Output(j)] {
				if !in[c] && !seen[c] && g.pos[c] < last {
					seen[c] = true
					stack = append(stack, c)
				}
			}
		}
	}
	for _, m := range sorted {
		push(m)
	}
	for len(stack) > 0 {
		l := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for j := 0; j < l.NbOutputs(); j++ {
			for _, c := range g.consumers[l.Output(j)] {
				if in[c] {
					return false
				}
			}
		}
		push(l)
	}
	return true
}

// schedule orders fusions topologically over the graph whose nodes are the
// groups and the ungrouped layers (acyclic because groups are convex):
// a group comes after every group that computes one of its inputs, ties
// in execution order of the layers.
func (g *graph) schedule(fs []ir.Fusion) []ir.Fusion {
	unit := map[dsl.Layer]int{}
	for i, f := range fs {
		for _, l := range f.Layers {
			unit[l] = i
		}
	}
	doneLayer := map[dsl.Layer]bool{}
	doneUnit := make([]bool, len(fs))
	var out []ir.Fusion
	var visitLayer func(l dsl.Layer)
	visitInputs := func(l dsl.Layer, skip func(dsl.Layer) bool) {
		for j := 0; j < l.NbInputs(); j++ {
			if t := l.Input(j); t != nil {
				if p, _ := t.Producer(); p != nil && !skip(p) {
					visitLayer(p)
				}
			}
		}
	}
	visitLayer = func(l dsl.Layer) {
		if u, ok := unit[l]; ok {
			if doneUnit[u] {
				return
			}
			doneUnit[u] = true
			for _, m := range fs[u].Layers {
				visitInputs(m, func(p dsl.Layer) bool { v, ok := unit[p]; return ok && v == u })
			}
			out = append(out, fs[u])
			return
		}
		if doneLayer[l] {
			return
		}
		doneLayer[l] = true
		visitInputs(l, func(dsl.Layer) bool { return false })
	}
	for _, l := range g.topo {
		visitLayer(l)
	}
	return out
}
