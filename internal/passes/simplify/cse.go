package simplify

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// CSE is common-subexpression elimination: a layer of the same kind, with
// the same parameters (dsl.SameParams) and the same inputs as an earlier
// one is dropped, and its outputs stand for the earlier layer's. Inputs
// are compared after the merges so far, so one walk in topological order
// reaches the fixpoint (two identical chains merge layer by layer).
//
// Never merged: random fills (two draws are two different tensors),
// plugins (their outputs may depend on state the plugin keeps), assertions
// (no outputs), KV cache updates (TensorRT writes the cache in place), and
// the layers of loops and conditionals. A layer whose output is a network
// output is kept when the earlier layer's output is one too: two outputs
// cannot be one tensor.
func CSE(g *ir.Graph, o ir.Options) (*ir.Graph, error) {
	p := newPlan(g.Net)
	seen := map[string][]dsl.Layer{}
	for _, l := range p.order {
		if !cseCandidate(p, l) {
			continue
		}
		key := p.cseKey(l)
		merged := false
		for _, c := range seen[key] {
			if dsl.SameParams(c, l) && p.alias(l, outputsOf(c)...) {
				merged = true
				break
			}
		}
		if !merged {
			seen[key] = append(seen[key], l)
		}
	}
	return p.apply(g)
}

func cseCandidate(p *plan, l dsl.Layer) bool {
	if p.inRegion[l] || l.NbOutputs() == 0 {
		return false
	}
	switch l.Type() {
	case dsl.LayerPlugin, dsl.LayerAssertion, dsl.LayerKVCacheUpdate:
		return false
	case dsl.LayerFill:
		return l.(*dsl.FillLayer).Operation() == dsl.FillLinspace
	}
	return true
}

// cseKey buckets layers that may merge: kind, resolved inputs, and the
// type and dims of each output (equal parameters on equal inputs give
// equal outputs, and the dims split the many constants of a network into
// small buckets before their weights are compared).
func (p *plan) cseKey(l dsl.Layer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d|", l.Type())
	for i := 0; i < l.NbInputs(); i++ {
		if t := l.Input(i); t != nil {
			fmt.Fprintf(&b, "%d,", p.res(t).ID())
		} else {
			b.WriteString("-,")
		}
	}
	for k := 0; k < l.NbOutputs(); k++ {
		o := l.Output(k)
		fmt.Fprintf(&b, "|%v %v", o.Type(), o.Dims())
	}
	return b.String()
}

func outputsOf(l dsl.Layer) []*dsl.Tensor {
	out := make([]*dsl.Tensor, l.NbOutputs())
	for i := range out {
		out[i] = l.Output(i)
	}
	return out
}
