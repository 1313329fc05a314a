// Package ir is the graph the compiler's passes rewrite: a dsl.Network (the
// layer kinds of TensorRT's INetworkDefinition) plus what the passes decided
// about it: fusions (groups of layers a target runs as one kernel, from the
// fused-kind table in fused.go) and the precision chosen for each layer.
//
// Passes never edit a network in place. They rebuild it with a Rebuilder,
// copying what stays and adding new layers for what changes, so a pass that
// fails half way leaves its input intact, and Check can verify every
// intermediate graph.
package ir

import (
	"fmt"

	"github.com/trtc/trtc/dsl"
)

// Graph is a network and the decisions passes made about it.
type Graph struct {
	Net *dsl.Network
	// Fusions are disjoint groups of connected layers of Net.
	Fusions []Fusion
	// Precisions records, by layer name, the precision the autocast pass
	// chose for a layer and why; inspect shows it.
	Precisions map[string]PrecisionDecision
}

// New wraps a network.
func New(net *dsl.Network) *Graph {
	return &Graph{Net: net, Precisions: map[string]PrecisionDecision{}}
}

// PrecisionDecision is the compute type chosen for one layer.
type PrecisionDecision struct {
	Type   dsl.DataType // the type the layer computes in
	Reason string       // why ("fp16 requested", "softmax kept in fp32", "override from config")
}

// LayerCount counts layers by kind, for build summaries.
func (g *Graph) LayerCount() int { return g.Net.NbLayers() }

// FusionOf returns the fusion a layer belongs to, or nil.
func (g *Graph) FusionOf(l dsl.Layer) *Fusion {
	for i := range g.Fusions {
		for _, m := range g.Fusions[i].Layers {
			if m == l {
				return &g.Fusions[i]
			}
		}
	}
	return nil
}

// String summarises the graph for debugging.
func (g *Graph) String() string {
	return fmt.Sprintf("graph %q: %d layers, %d fusions", g.Net.Name(), g.Net.NbLayers(), len(g.Fusions))
}

// Derive returns a graph for net, a rebuild of g.Net: precision decisions
// carry over by layer name (names that no longer exist are dropped), and
// fusions carry over when every member still exists under a unique name.
func (g *Graph) Derive(net *dsl.Network) *Graph {
	ng := New(net)
	byName := map[string]dsl.Layer{}
	dupName := map[string]bool{}
	for _, l := range net.Layers() {
		if _, ok := byName[l.Name()]; ok {
			dupName[l.Name()] = true
		}
		byName[l.Name()] = l
	}
	for name, d := range g.Precisions {
		if _, ok := byName[name]; ok {
			ng.Precisions[name] = d
		}
	}
fusions:
	for _, f := range g.Fusions {
		nf := Fusion{Kind: f.Kind}
		for _, l := range f.Layers {
			m, ok := byName[l.Name()]
			if !ok || dupName[l.Name()] {
				continue fusions
			}
			nf.Layers = append(nf.Layers, m)
		}
		ng.Fusions = append(ng.Fusions, nf)
	}
	return ng
}
