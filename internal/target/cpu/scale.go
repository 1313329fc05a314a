package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerScale, runScale) }

func runScale(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	s := l.(*dsl.ScaleLayer)
	x := in[0]
	shape := x.Shape()
	want := s.WeightsCount(shape)
	coef := func(name string, w dsl.Weights) ([]float32, error) {
		if w.IsEmpty() {
			return nil, nil
		}
		if w.Count() != want {
			return nil, layerErr(l, diag.ShapeMismatch, "at run time the input is %v: %v mode needs %d %s weights, the layer has %d", shape, s.Mode(), want, name, w.Count())
		}
		return w.Tensor().AsFloat32(), nil
	}
	shift, err := coef("shift", s.Shift())
	if err != nil {
		return nil, err
	}
	scale, err := coef("scale", s.Scale())
	if err != nil {
		return nil, err
	}
	power, err := coef("power", s.Power())
	if err != nil {
		return nil, err
	}
	// Element i uses coefficient (i / inner) % count: inner is 1 for
	// Elementwise and the volume after the channel axis for Channel.
	inner, count := int64(1), int64(1)
	switch s.Mode() {
	case dsl.ScaleChannel:
		inner, count = tensor.Volume(shape[s.ChannelAxis()+1:]), want
	case dsl.ScaleElementwise:
		count = want
	}
	src := x.AsFloat32()
	dst := make([]float32, len(src))
	parallelFor(len(src), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			k := (int64(i) / inner) % count
			v := src[i]
			if scale != nil {
				v *= scale[k]
			}
			if shift != nil {
				v += shift[k]
			}
			if power != nil {
				v = float32(math.Pow(float64(v), float64(power[k])))
			}
			dst[i] = v
		}
	})
	out, err := tensor.FromFloat32s(x.DType(), shape, dst)
	return []*tensor.Tensor{out}, err
}
