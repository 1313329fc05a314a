package cpu

import "github.com/trtc/trtc/dsl"

// Intermediate values are dropped as soon as the last step that reads them
// has run, so a run holds only the live activations rather than every
// tensor of the network.

// releasePlan returns, for each top-level step, the IDs of the tensors no
// later step reads: values read by step i (or produced by it and never
// read) are released after step i. Network outputs are never released.
func releasePlan(net *dsl.Network, steps []step) [][]int {
	last := map[int]int{} // tensor ID -> index of the last step reading or producing it
	for i, s := range steps {
		for _, l := range stepLayers(s) {
			for j := 0; j < l.NbInputs(); j++ {
				if t := l.Input(j); t != nil {
					last[t.ID()] = i
				}
			}
			for j := 0; j < l.NbOutputs(); j++ {
				if t := l.Output(j); t != nil {
					if _, read := last[t.ID()]; !read {
						last[t.ID()] = i
					}
				}
			}
		}
	}
	for _, t := range net.Outputs() {
		delete(last, t.ID())
	}
	plan := make([][]int, len(steps))
	for id, i := range last {
		plan[i] = append(plan[i], id)
	}
	return plan
}

// runTopLevel runs the schedule, releasing values after their last use.
func runTopLevel(x *execCtx, steps []step, release [][]int) error {
	for i, s := range steps {
		if err := s.run(x); err != nil {
			return err
		}
		for _, id := range release[i] {
			x.vals[id] = nil
		}
	}
	return nil
}
