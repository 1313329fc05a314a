package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerShuffle, runShuffle) }

func runShuffle(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	s := l.(*dsl.ShuffleLayer)
	x := in[0]
	y := x
	if p := s.FirstTranspose(); p != nil {
		y = datamoveTranspose(y, p)
	}
	var reshape []int64
	switch {
	case len(in) > 1 && in[1] != nil:
		reshape = in[1].Int64Values()
	case s.ReshapeDimensions() != nil:
		reshape = s.ReshapeDimensions()
	}
	if reshape != nil {
		d, err := dsl.ResolveReshapeDims(y.Shape(), reshape, s.ZeroIsPlaceholder())
		if err != nil {
			return nil, layerErr(l, diag.CodeOf(err), "at run time, reshape of %v to %v: %s", y.Shape(), reshape, err.(*diag.Error).Msg)
		}
		y = datamoveReshaped(y, d)
	}
	if p := s.SecondTranspose(); p != nil {
		y = datamoveTranspose(y, p)
	}
	if y == x {
		y = x.Clone()
	}
	return []*tensor.Tensor{y}, nil
}
