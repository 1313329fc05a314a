package cpu

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() {
	register(dsl.LayerCast, runCast)
	register(dsl.LayerIdentity, runIdentity)
}

// runCast converts with tensor.Convert: truncation toward zero and
// saturation for float to integer, != 0 for Bool, round to nearest even
// between floats.
func runCast(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	out, err := in[0].Convert(l.(*dsl.CastLayer).ToType())
	return []*tensor.Tensor{out}, err
}

// runIdentity copies, so a network output never aliases a network input
// the caller still owns.
func runIdentity(_ *execCtx, _ dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return []*tensor.Tensor{in[0].Clone()}, nil
}
