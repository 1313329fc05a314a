package simplify

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// DeadLayers drops the layers whose outputs reach no network output.
//
// Kept besides what the outputs need: layers without outputs outside
// regions (assertions: failing the run is their effect), with everything
// they read. Loops and conditionals are kept or dropped whole: when one
// layer of a region is needed, its whole boundary and body are, so no
// region is left without its trip limit, condition or an output. The
// layers a region analysis calls dead (they read the region's values but
// feed none of its exits; the CPU engine never runs them) go with the rest,
// except assertions among them, which stay while their regions stay: a
// target that runs them should still see them.
func DeadLayers(g *ir.Graph, o ir.Options) (*ir.Graph, error) {
	net := g.Net
	regions := net.Regions()
	memberOf := map[dsl.Layer][]int{} // boundary or body of these regions
	deadIn := map[dsl.Layer][]int{}   // in the Dead list of these regions
	for ri, r := range regions {
		for _, ls := range [][]dsl.Layer{r.Boundary, r.Body} {
			for _, l := range ls {
				memberOf[l] = append(memberOf[l], ri)
			}
		}
		for _, l := range r.Dead {
			deadIn[l] = append(deadIn[l], ri)
		}
	}
	neverRun := func(l dsl.Layer) bool { return len(deadIn[l]) > 0 && len(memberOf[l]) == 0 }

	live := map[dsl.Layer]bool{}
	regionLive := make([]bool, len(regions))
	var work []dsl.Layer
	mark := func(l dsl.Layer) {
		if l != nil && !live[l] {
			live[l] = true
			work = append(work, l)
		}
	}
	flood := func() {
		for len(work) > 0 {
			l := work[len(work)-1]
			work = work[:len(work)-1]
			for i := 0; i < l.NbInputs(); i++ {
				if t := l.Input(i); t != nil {
					p, _ := t.Producer()
					mark(p)
				}
			}
			for _, ri := range memberOf[l] {
				if !regionLive[ri] {
					regionLive[ri] = true
					for _, m := range regions[ri].Boundary {
						mark(m)
					}
					for _, m := range regions[ri].Body {
						mark(m)
					}
				}
			}
		}
	}
	for _, t := range net.Outputs() {
		p, _ := t.Producer()
		mark(p)
	}
	layers := net.TopoLayers()
	for _, l := range layers {
		if l.NbOutputs() == 0 && len(memberOf[l]) == 0 && !neverRun(l) {
			mark(l)
		}
	}
	flood()
	// Assertions the region analysis calls dead stay with their regions.
	for changed := true; changed; {
		changed = false
		for _, l := range layers {
			if live[l] || l.NbOutputs() != 0 || !neverRun(l) {
				continue
			}
			all := true
			for _, ri := range deadIn[l] {
				all = all && regionLive[ri]
			}
			if all {
				mark(l)
				flood()
				changed = true
			}
		}
	}

	if len(live) == len(layers) {
		return g, nil
	}
	r := ir.NewRebuilder(net)
	for _, l := range layers {
		if live[l] {
			r.Copy(l)
		}
	}
	nn, err := r.Finish()
	if err != nil {
		return nil, err
	}
	return g.Derive(nn), nil
}
