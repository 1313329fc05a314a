package ir

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Check verifies a graph: the network is valid (dsl's own checks: types,
// shapes, regions, outputs), every fusion names layers of this network,
// no layer is in two fusions, each fusion is connected (every member after
// the first reads an output of an earlier member) and has a known kind,
// and every precision decision names a layer of the network. Passes run it
// before and after themselves in tests and under the debug flag; a failure
// is a bug in a pass.
func Check(g *Graph) error {
	if g == nil || g.Net == nil {
		return diag.Errorf(diag.Internal, "ir.Check: nil graph")
	}
	if err := g.Net.Err(); err != nil {
		return err
	}
	layers := g.Net.Layers()
	index := make(map[dsl.Layer]int, len(layers))
	names := make(map[string]bool, len(layers))
	for i, l := range layers {
		index[l] = i
		names[l.Name()] = true
	}
	owner := map[dsl.Layer]int{}
	for fi, f := range g.Fusions {
		if f.Kind < 0 || f.Kind >= numFusedKinds {
			return checkErr(g, "fusion %d has unknown kind %v", fi, f.Kind)
		}
		if len(f.Layers) == 0 {
			return checkErr(g, "fusion %d (%v) has no layers", fi, f.Kind)
		}
		produced := map[*dsl.Tensor]bool{}
		for mi, l := range f.Layers {
			if _, ok := index[l]; !ok {
				return checkErr(g, "fusion %d (%v) member %d, %s, is not a layer of the network", fi, f.Kind, mi, dsl.LayerString(l))
			}
			if prev, dup := owner[l]; dup {
				return checkErr(g, "%s is in fusions %d and %d", dsl.LayerString(l), prev, fi)
			}
			owner[l] = fi
			if mi > 0 && !readsAny(l, produced) {
				return checkErr(g, "fusion %d (%v) is not connected: member %d, %s, reads no output of an earlier member", fi, f.Kind, mi, dsl.LayerString(l))
			}
			for o := 0; o < l.NbOutputs(); o++ {
				produced[l.Output(o)] = true
			}
		}
	}
	for name := range g.Precisions {
		if !names[name] {
			return checkErr(g, "precision decision for %q, which is not a layer of the network", name)
		}
	}
	return nil
}

func readsAny(l dsl.Layer, ts map[*dsl.Tensor]bool) bool {
	for i := 0; i < l.NbInputs(); i++ {
		if ts[l.Input(i)] {
			return true
		}
	}
	return false
}

func checkErr(g *Graph, format string, args ...any) error {
	return diag.Errorf(diag.Internal, "ir.Check of %q: %s", g.Net.Name(), fmt.Sprintf(format, args...))
}
