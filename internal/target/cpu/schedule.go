package cpu

import (
	"container/heap"
	"fmt"
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// step is one unit of execution: a layer, or a region (a loop or an
// if-conditional) that runs its own layers.
type step interface {
	run(x *execCtx) error
}

type layerStep struct{ l dsl.Layer }

func (s layerStep) run(x *execCtx) error { return runLayer(x, s.l) }

func runSteps(x *execCtx, steps []step) error {
	for _, s := range steps {
		if err := s.run(x); err != nil {
			return err
		}
	}
	return nil
}

// buildSchedule orders the network for execution. Layers outside any
// region are plain steps; each outermost loop or if-conditional is one
// step that schedules its own body the same way, recursively. Steps are
// ordered by their dependencies (a region depends on everything any of its
// layers reads from outside it), ties broken by the order layers were
// added, so a network without regions runs in the order it was written.
func buildSchedule(net *dsl.Network) ([]step, error) {
	s := newScheduler(net)
	return s.build(net.Layers(), -1)
}

// scheduler holds the region structure of one network.
type scheduler struct {
	net     *dsl.Network
	regions []dsl.Region
	members []map[int]bool // boundary and body of each region
	parent  []int          // innermost enclosing region, -1 for none
	owner   map[int]int    // layer index -> innermost region holding it
	dead    map[int]bool   // layers that are never run
}

func newScheduler(net *dsl.Network) *scheduler {
	s := &scheduler{net: net, regions: net.Regions(), owner: map[int]int{}, dead: map[int]bool{}}
	for _, r := range s.regions {
		m := map[int]bool{}
		for _, l := range r.Boundary {
			m[l.Index()] = true
		}
		for _, l := range r.Body {
			m[l.Index()] = true
		}
		s.members = append(s.members, m)
		for _, l := range r.Dead {
			s.dead[l.Index()] = true
		}
	}
	// A layer dead for one region but run by another is not dead.
	for _, m := range s.members {
		for i := range m {
			delete(s.dead, i)
		}
	}
	// The innermost region holding something is the smallest one.
	innermost := func(layer, skip int) int {
		best := -1
		for ri, m := range s.members {
			if ri != skip && m[layer] && (best < 0 || len(m) < len(s.members[best])) {
				best = ri
			}
		}
		return best
	}
	for ri, r := range s.regions {
		s.parent = append(s.parent, innermost(r.Boundary[0].Index(), ri))
	}
	for _, l := range net.Layers() {
		if o := innermost(l.Index(), -1); o >= 0 {
			s.owner[l.Index()] = o
		}
	}
	return s
}

// node is a step being ordered: its layers and the step itself.
type node struct {
	layers []dsl.Layer
	first  int // smallest layer index, for stable order
	build  func() (step, error)
}

// build schedules the layers of set that belong directly to level (a
// region index, or -1 for the top level) and the regions nested directly
// in level.
func (s *scheduler) build(set []dsl.Layer, level int) ([]step, error) {
	in := map[int]bool{}
	for _, l := range set {
		in[l.Index()] = true
	}
	var nodes []*node
	for _, l := range set {
		i := l.Index()
		o, inRegion := s.owner[i]
		if s.dead[i] || (inRegion && o != level) || (!inRegion && level != -1) {
			continue
		}
		if level >= 0 && s.members[level][i] && slices.Contains(s.regions[level].Boundary, l) {
			continue // the region's own boundary is run by the region step
		}
		nodes = append(nodes, &node{layers: []dsl.Layer{l}, first: i, build: func() (step, error) { return layerStep{l}, nil }})
	}
	for ri, r := range s.regions {
		if s.parent[ri] != level || !in[r.Boundary[0].Index()] {
			continue
		}
		ls := s.regionLayers(ri)
		nodes = append(nodes, &node{layers: ls, first: ls[0].Index(), build: func() (step, error) { return s.regionStep(ri) }})
	}
	order, err := s.order(nodes)
	if err != nil {
		return nil, err
	}
	steps := make([]step, len(order))
	for k, nd := range order {
		if steps[k], err = nd.build(); err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// order sorts nodes so every node comes after the nodes it reads from.
func (s *scheduler) order(nodes []*node) ([]*node, error) {
	nodeOf := map[int]int{}
	for k, nd := range nodes {
		for _, l := range nd.layers {
			nodeOf[l.Index()] = k
		}
	}
	deps := make([]map[int]bool, len(nodes))
	for k, nd := range nodes {
		deps[k] = map[int]bool{}
		for _, l := range nd.layers {
			for i := 0; i < l.NbInputs(); i++ {
				t := l.Input(i)
				if t == nil {
					continue
				}
				if p, _ := t.Producer(); p != nil {
					if d, ok := nodeOf[p.Index()]; ok && d != k {
						deps[k][d] = true
					}
				}
			}
		}
	}
	// Kahn's algorithm; among ready nodes the one added first goes first.
	users := make([][]int, len(nodes))
	waiting := make([]int, len(nodes))
	ready := &nodeHeap{nodes: nodes}
	for k := range nodes {
		waiting[k] = len(deps[k])
		for d := range deps[k] {
			users[d] = append(users[d], k)
		}
		if waiting[k] == 0 {
			heap.Push(ready, k)
		}
	}
	var out []*node
	for ready.Len() > 0 {
		k := heap.Pop(ready).(int)
		out = append(out, nodes[k])
		for _, u := range users[k] {
			if waiting[u]--; waiting[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(out) < len(nodes) {
		var stuck []string
		for k, nd := range nodes {
			if waiting[k] > 0 {
				stuck = append(stuck, fmt.Sprintf("%q", nd.layers[0].Name()))
			}
		}
		return nil, diag.Errorf(diag.InvalidGraph, "no execution order exists for layers %v: a loop or if-conditional reads a value computed from its own output outside it", stuck)
	}
	return out, nil
}

// nodeHeap orders ready node indices by their first layer.
type nodeHeap struct {
	nodes []*node
	idx   []int
}

func (h *nodeHeap) Len() int           { return len(h.idx) }
func (h *nodeHeap) Less(i, j int) bool { return h.nodes[h.idx[i]].first < h.nodes[h.idx[j]].first }
func (h *nodeHeap) Swap(i, j int)      { h.idx[i], h.idx[j] = h.idx[j], h.idx[i] }
func (h *nodeHeap) Push(x any)         { h.idx = append(h.idx, x.(int)) }
func (h *nodeHeap) Pop() any {
	x := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return x
}

// regionLayers lists region ri's boundary and body in network order.
func (s *scheduler) regionLayers(ri int) []dsl.Layer {
	var ls []dsl.Layer
	for _, l := range s.net.Layers() {
		if s.members[ri][l.Index()] {
			ls = append(ls, l)
		}
	}
	return ls
}

// regionStep builds the step that runs region ri.
func (s *scheduler) regionStep(ri int) (step, error) {
	r := s.regions[ri]
	if r.Loop != nil {
		return s.loopStep(ri)
	}
	st := &ifStep{name: r.Name(), layers: s.regionLayers(ri)}
	for _, l := range r.Boundary {
		switch b := l.(type) {
		case *dsl.ConditionLayer:
			st.condition = b
		case *dsl.ConditionalInputLayer:
			st.inputs = append(st.inputs, b)
		case *dsl.ConditionalOutputLayer:
			st.outputs = append(st.outputs, b)
		}
	}
	if st.condition == nil {
		return nil, diag.Errorf(diag.InvalidGraph, "if-conditional %q has no condition", r.Name())
	}
	var err error
	if st.then, err = s.build(r.TrueBranch, ri); err != nil {
		return nil, err
	}
	if st.els, err = s.build(r.FalseBranch, ri); err != nil {
		return nil, err
	}
	return st, nil
}

// loopStep builds the step that runs loop ri: its body split into the
// steps the While condition needs and the rest.
func (s *scheduler) loopStep(ri int) (step, error) {
	r := s.regions[ri]
	st := &loopStep{name: r.Name(), layers: s.regionLayers(ri)}
	var whileIn *dsl.Tensor
	for _, l := range r.Boundary {
		switch b := l.(type) {
		case *dsl.RecurrenceLayer:
			st.recs = append(st.recs, b)
		case *dsl.IteratorLayer:
			st.iters = append(st.iters, b)
		case *dsl.LoopOutputLayer:
			st.outs = append(st.outs, b)
		case *dsl.TripLimitLayer:
			if b.TripLimit() == dsl.TripLimitCount {
				st.count = b
			} else {
				st.while = b
				whileIn = b.Input(0)
			}
		}
	}
	body, err := s.build(r.Body, ri)
	if err != nil {
		return nil, err
	}
	if whileIn == nil {
		st.body = body
		return st, nil
	}
	// The condition's cone: the body layers it reads, transitively.
	cone := map[int]bool{}
	inBody := map[int]bool{}
	for _, l := range r.Body {
		inBody[l.Index()] = true
	}
	work := []*dsl.Tensor{whileIn}
	for len(work) > 0 {
		t := work[len(work)-1]
		work = work[:len(work)-1]
		p, _ := t.Producer()
		if p == nil || cone[p.Index()] || !inBody[p.Index()] {
			continue
		}
		cone[p.Index()] = true
		for i := 0; i < p.NbInputs(); i++ {
			if in := p.Input(i); in != nil {
				work = append(work, in)
			}
		}
	}
	// A step is in the condition part if it computes part of the cone, or
	// (walking backward) a later condition step reads it.
	members := make([][]dsl.Layer, len(body))
	for k, b := range body {
		members[k] = stepLayers(b)
	}
	need := make([]bool, len(body))
	for k := len(body) - 1; k >= 0; k-- {
		for _, l := range members[k] {
			if cone[l.Index()] {
				need[k] = true
			}
		}
		if !need[k] {
			continue
		}
		for j := 0; j < k; j++ {
			if !need[j] && stepFeeds(members[j], members[k]) {
				need[j] = true
			}
		}
	}
	for k, b := range body {
		if need[k] {
			st.cond = append(st.cond, b)
		} else {
			st.body = append(st.body, b)
		}
	}
	return st, nil
}

// stepLayers lists the layers a step runs.
func stepLayers(st step) []dsl.Layer {
	switch b := st.(type) {
	case layerStep:
		return []dsl.Layer{b.l}
	case *loopStep:
		return b.layers
	case *ifStep:
		return b.layers
	}
	return nil
}

// stepFeeds reports whether a layer of to reads an output of a layer of from.
func stepFeeds(from, to []dsl.Layer) bool {
	prod := map[int]bool{}
	for _, l := range from {
		prod[l.Index()] = true
	}
	for _, l := range to {
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil {
				if p, _ := t.Producer(); p != nil && prod[p.Index()] {
					return true
				}
			}
		}
	}
	return false
}
