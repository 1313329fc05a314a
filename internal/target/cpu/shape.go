package cpu

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerShape, runShape) }

func runShape(_ *execCtx, _ dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	s := in[0].Shape()
	out, err := tensor.FromInt64([]int64{int64(len(s))}, s)
	return []*tensor.Tensor{out}, err
}
