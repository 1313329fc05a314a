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
	c := scaleCoefs{scale: scale, shift: shift, power: power}
	if len(src) > 0 { // then inner and count are positive
		parallelFor(len(src), 1<<14, func(lo, hi int) {
			c.apply(dst, src, lo, hi, int(inner), int(count))
		})
	}
	out, err := perfOutput(x.DType(), shape, dst)
	return []*tensor.Tensor{out}, err
}

// scaleCoefs holds the coefficient sets of a Scale layer; a nil set is
// absent (not the neutral value: x*1+0 would turn -0 into +0).
type scaleCoefs struct{ scale, shift, power []float32 }

// apply computes elements [lo, hi) of dst from src, element i using
// coefficient (i / inner) % count. Runs of inner elements share one
// coefficient, so they go through a loop with scalar coefficients; with
// inner == 1 the coefficient index just advances and wraps.
func (c *scaleCoefs) apply(dst, src []float32, lo, hi, inner, count int) {
	if inner == 1 {
		k := lo % count
		for i := lo; i < hi; i++ {
			dst[i] = c.one(src[i], k)
			if k++; k == count {
				k = 0
			}
		}
		return
	}
	for i := lo; i < hi; {
		blk := i / inner
		end := min((blk+1)*inner, hi)
		c.run(dst[i:end], src[i:end], blk%count)
		i = end
	}
}

// one computes a single element with coefficient k.
func (c *scaleCoefs) one(v float32, k int) float32 {
	if c.scale != nil {
		v = float32(v * c.scale[k]) // the conversion forbids fusing into an FMA
	}
	if c.shift != nil {
		v += c.shift[k]
	}
	if c.power != nil {
		v = float32(math.Pow(float64(v), float64(c.power[k])))
	}
	return v
}

// run computes a run of elements that all use coefficient k; the common
// power-free cases get loops without per-element tests.
func (c *scaleCoefs) run(dst, src []float32, k int) {
	dst = dst[:len(src)]
	switch {
	case c.power != nil:
		for i, v := range src {
			dst[i] = c.one(v, k)
		}
	case c.scale != nil && c.shift != nil:
		a, b := c.scale[k], c.shift[k]
		for i, v := range src {
			dst[i] = float32(v*a) + b
		}
	case c.scale != nil:
		a := c.scale[k]
		for i, v := range src {
			dst[i] = v * a
		}
	case c.shift != nil:
		b := c.shift[k]
		for i, v := range src {
			dst[i] = v + b
		}
	default:
		copy(dst, src)
	}
}
