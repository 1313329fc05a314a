package ir

import "github.com/trtc/trtc/dsl"

// RegionMembers is the set of layers that belong to a loop or an
// if-conditional: boundary layers, bodies, branches, and the dead layers
// that read a region's values. Passes copy these unchanged: rewriting
// inside a region would have to respect its boundary rules.
func RegionMembers(net *dsl.Network) map[dsl.Layer]bool {
	m := map[dsl.Layer]bool{}
	for _, r := range net.Regions() {
		for _, set := range [][]dsl.Layer{r.Boundary, r.Body, r.Dead} {
			for _, l := range set {
				m[l] = true
			}
		}
	}
	return m
}

// UseCounts counts, for every tensor, the layer inputs that read it
// (network outputs are not counted).
func UseCounts(net *dsl.Network) map[*dsl.Tensor]int {
	uses := map[*dsl.Tensor]int{}
	for _, l := range net.Layers() {
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil {
				uses[t]++
			}
		}
	}
	return uses
}
