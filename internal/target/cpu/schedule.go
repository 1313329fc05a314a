package cpu

import "github.com/trtc/trtc/dsl"

// step is one unit of execution: a layer, or a region (a loop or an
// if-conditional) that runs its own layers.
type step interface {
	run(x *execCtx) error
}

type layerStep struct{ l dsl.Layer }

func (s layerStep) run(x *execCtx) error { return runLayer(x, s.l) }

// buildSchedule orders the network's layers for execution: producers run
// before consumers (dsl.Network.TopoLayers).
func buildSchedule(net *dsl.Network) ([]step, error) {
	var steps []step
	for _, l := range net.TopoLayers() {
		steps = append(steps, layerStep{l})
	}
	return steps, nil
}

func runSteps(x *execCtx, steps []step) error {
	for _, s := range steps {
		if err := s.run(x); err != nil {
			return err
		}
	}
	return nil
}
