package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() {
	register(dsl.LayerCumulative, runCumulative)
	register(dsl.LayerAssertion, runAssertion)
}

// runCumulative walks each line along the axis, summing in float64 for
// floats (rounded to the output type on store) and int64 for integers
// (Int32 wraps, as GPU integer adds do).
func runCumulative(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	c := l.(*dsl.CumulativeLayer)
	axis, ok := c.Axis()
	if !ok {
		return nil, layerErr(l, diag.Internal, "cumulative axis unknown at run time")
	}
	x := in[0]
	shape := x.Shape()
	n := shape[axis]
	inner := tensor.Volume(shape[axis+1:])
	outer := tensor.Volume(shape[:axis])
	out := tensor.New(x.DType(), shape...)
	isInt := x.DType().IsInteger()
	var fs []float64
	if !isInt {
		fs = make([]float64, x.Len())
	}
	for o := int64(0); o < outer; o++ {
		for k := int64(0); k < inner; k++ {
			base := o*n*inner + k
			var fsum float64
			var isum int64
			for s := int64(0); s < n; s++ {
				j := s
				if c.Reverse() {
					j = n - 1 - s
				}
				i := base + j*inner
				if c.Exclusive() {
					if isInt {
						out.SetInt64(i, wrapInt(x.DType(), isum))
					} else {
						fs[i] = fsum
					}
				}
				if isInt {
					isum += x.Int64At(i)
				} else {
					fsum += x.Float64At(i)
				}
				if !c.Exclusive() {
					if isInt {
						out.SetInt64(i, wrapInt(x.DType(), isum))
					} else {
						fs[i] = fsum
					}
				}
			}
		}
	}
	if !isInt {
		var err error
		if out, err = tensor.FromFloat64s(x.DType(), shape, fs); err != nil {
			return nil, err
		}
	}
	return []*tensor.Tensor{out}, nil
}

func runAssertion(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	for i, b := range in[0].Bytes() {
		if b == 0 {
			return nil, layerErr(l, diag.AssertionFailed, "assertion failed (element %d of %q is false): %s", i, l.Input(0).Name(), l.(*dsl.AssertionLayer).Message())
		}
	}
	return []*tensor.Tensor{}, nil
}
