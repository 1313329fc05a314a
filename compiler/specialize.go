package compiler

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// specialize returns the network with every dynamic input fixed to its
// shape when the only profile allows exactly one shape per input (trtexec
// --shapes), so shape arithmetic becomes static and the fold pass removes
// it, as TensorRT does for a profile with min = opt = max. Otherwise it
// returns net itself. The engine's bindings keep the declared dims.
func specialize(net *dsl.Network, profiles []Profile) (*dsl.Network, error) {
	if len(profiles) != 1 {
		return net, nil
	}
	fixed := map[string][]int64{}
	for _, r := range profiles[0].Inputs {
		for i := range r.Min {
			if r.Min[i] != r.Max[i] {
				return net, nil
			}
		}
		fixed[r.Input] = r.Min
	}
	if len(fixed) == 0 {
		return net, nil
	}
	r := ir.NewRebuilder(net)
	for _, l := range net.TopoLayers() {
		r.Copy(l)
	}
	cp, err := r.Finish()
	if err != nil {
		return nil, err
	}
	for _, in := range cp.Inputs() {
		if s, ok := fixed[in.Name()]; ok {
			in.SetDims(dsl.Dims(s))
		}
	}
	if err := cp.Err(); err != nil {
		return nil, err
	}
	return cp, nil
}
