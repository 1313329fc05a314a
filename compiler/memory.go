package compiler

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// activationBytes bounds the memory for activations: the bytes of every
// tensor a layer computes (constants excluded: they are weights) at the
// largest shapes of the profile that needs most. It is an upper bound
// without reuse; a target that plans an arena by liveness reports its own
// smaller figure.
func activationBytes(net *dsl.Network, profiles []Profile) int64 {
	if len(profiles) == 0 {
		return sumActivations(net)
	}
	var most int64
	for _, p := range profiles {
		r := ir.NewRebuilder(net)
		for _, l := range net.TopoLayers() {
			r.Copy(l)
		}
		cp, err := r.Finish()
		if err != nil {
			return 0
		}
		for _, in := range cp.Inputs() {
			for _, sr := range p.Inputs {
				if sr.Input == in.Name() {
					in.SetDims(dsl.Dims(sr.Max))
				}
			}
		}
		most = max(most, sumActivations(cp))
	}
	return most
}

func sumActivations(net *dsl.Network) int64 {
	var n int64
	for _, l := range net.Layers() {
		if l.Type() == dsl.LayerConstant {
			continue
		}
		for i := 0; i < l.NbOutputs(); i++ {
			t := l.Output(i)
			d := t.Dims()
			if !d.IsStatic() {
				continue // data-dependent: known only at run time
			}
			n += t.Type().ByteSize(d.Volume())
		}
	}
	return n
}
