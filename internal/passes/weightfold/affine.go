package weightfold

import (
	"math"

	"github.com/trtc/trtc/dsl"
)

// scaleCoefficients returns the per-output-channel a and b with which the
// Scale layer s computes y*a[k] + b[k] on a convolution output of dims d
// with k channels (axis 1), or ok=false when it does not: a power other
// than 1, or coefficients that vary along another axis than the channel.
func scaleCoefficients(s *dsl.ScaleLayer, d dsl.Dims, k int64) (a, b []float64, ok bool) {
	if pw := s.Power(); !pw.IsEmpty() {
		for _, v := range pw.Tensor().Float64s() {
			if v != 1 {
				return nil, nil, false
			}
		}
	}
	a, ok = channelValues(s, s.Scale(), d, k, 1)
	if !ok {
		return nil, nil, false
	}
	b, ok = channelValues(s, s.Shift(), d, k, 0)
	return a, b, ok
}

// channelValues expands one set of a Scale layer's weights into one value
// per channel (neutral for empty weights), or ok=false when the values
// depend on more than the channel.
func channelValues(s *dsl.ScaleLayer, w dsl.Weights, d dsl.Dims, k int64, neutral float64) ([]float64, bool) {
	out := make([]float64, k)
	if w.IsEmpty() {
		for i := range out {
			out[i] = neutral
		}
		return out, true
	}
	v := w.Tensor().Float64s()
	if !allFinite(v) || len(v) == 0 {
		return nil, false
	}
	if allEqual(v) {
		// One value everywhere, whatever the mode says: uniform.
		for i := range out {
			out[i] = v[0]
		}
		return out, true
	}
	axis := s.ChannelAxis()
	switch s.Mode() {
	case dsl.ScaleChannel:
		if axis != 1 || int64(len(v)) != k {
			return nil, false
		}
		copy(out, v)
		return out, true
	case dsl.ScaleElementwise:
		// One value per element of d[axis:]; it is per channel when it
		// only changes with the channel index.
		if axis < 0 || axis > 1 || !d[axis:].IsStatic() || d[axis:].Volume() != int64(len(v)) || len(d) < 2 {
			return nil, false
		}
		inner := d[2:].Volume()
		if inner < 1 {
			return nil, false
		}
		for i := range out {
			out[i] = math.NaN()
		}
		for i, x := range v {
			c := (int64(i) / inner) % k
			switch {
			case math.IsNaN(out[c]):
				out[c] = x
			case out[c] != x:
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

// elementWiseCoefficients returns a and b for an ElementWise op between y
// (the convolution output of dims d with k channels) and the tensor c, y
// being the first operand when first: Sum y+c, Sub y-c or c-y, Prod y*c,
// when c is a Constant that broadcasts per channel ([1, k or 1, 1, ...]),
// so the output has y's dims.
func elementWiseCoefficients(op dsl.ElementWiseOperation, c *dsl.Tensor, first bool, d dsl.Dims, k int64) (a, b []float64, ok bool) {
	cl, _ := c.Producer()
	cst, isConst := cl.(*dsl.ConstantLayer)
	if !isConst || c.Rank() != len(d) || len(d) < 2 {
		return nil, nil, false
	}
	cd := cst.Dimensions()
	for i, n := range cd {
		if i != 1 && n != 1 || i == 1 && n != 1 && n != k {
			return nil, nil, false
		}
	}
	w := cst.Weights()
	if !floatWeights(w) || w.IsEmpty() {
		return nil, nil, false
	}
	v := w.Tensor().Float64s()
	if !allFinite(v) {
		return nil, nil, false
	}
	per := make([]float64, k)
	for i := range per {
		per[i] = v[int64(i)%int64(len(v))]
	}
	ones, zeros := make([]float64, k), make([]float64, k)
	for i := range ones {
		ones[i] = 1
	}
	switch {
	case op == dsl.ElementWiseSum:
		return ones, per, true
	case op == dsl.ElementWiseSub && first: // y - c
		for i := range per {
			per[i] = -per[i]
		}
		return ones, per, true
	case op == dsl.ElementWiseSub: // c - y
		for i := range ones {
			ones[i] = -1
		}
		return ones, per, true
	case op == dsl.ElementWiseProd:
		return per, zeros, true
	}
	return nil, nil, false
}

func allEqual(v []float64) bool {
	for _, x := range v[1:] {
		if x != v[0] {
			return false
		}
	}
	return true
}
