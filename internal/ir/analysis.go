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

// ScalarConstant is the value of t when a Constant layer produces t with
// one element of float32, float16 or bfloat16 (a scalar operand as the
// importers and passes write it).
func ScalarConstant(t *dsl.Tensor) (float64, bool) {
	p, _ := t.Producer()
	cl, ok := p.(*dsl.ConstantLayer)
	if !ok {
		return 0, false
	}
	switch t.Type() {
	case dsl.Float32, dsl.Float16, dsl.BFloat16:
	default:
		return 0, false
	}
	w := cl.Weights().Tensor()
	if w == nil || w.Len() != 1 {
		return 0, false
	}
	return w.Float64At(0), true
}
