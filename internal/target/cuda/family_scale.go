package cuda

import (
	"fmt"
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Scale: y = ((x*scale) + shift)^power in float32 per element, each
// coefficient set present or absent (an absent one is skipped, not
// applied as its neutral value: x*1+0 would turn -0 into +0), as the
// CPU engine computes it: the product and the sum each rounded to
// float32 (no FMA), the power in float64 rounded to float32, the result
// rounded to the output's type. Element i uses coefficient
// (i / inner) % count: inner is the volume after the channel axis for
// Channel mode and 1 otherwise, count the number of coefficients.
//
// The coefficients are the layer's weights, not tensors: they travel in
// the metadata as float32 bits, two to an int64.
//
// Meta: [inner, count, shift at, scale at, power at (float index into
// the packed coefficients, -1 when absent), packed float32 coefficients].
func init() {
	registerFamily(dsl.LayerScale, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			if !isFloat(l.Input(0).Type()) {
				return false, "no scale kernel for " + l.Input(0).Type().String()
			}
			return true, ""
		},
		source: scaleKernel,
		plan:   scalePlan,
	})
}

// scaleMetaHead is the number of int64 before the packed coefficients.
const scaleMetaHead = 5

func scaleKernel(name string, l dsl.Layer) (string, bool) {
	dt := l.Input(0).Type()
	c, ok := typeOf(dt)
	if !ok || !isFloat(dt) {
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ in) {
  i64 inner = m[0], count = m[1];
  int shiftAt = (int)m[2], scaleAt = (int)m[3], powerAt = (int)m[4];
  const float* w = (const float*)(m + %d);
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 k = (i / inner) %% count;
    float v = %s;
    if (scaleAt >= 0) v = __fmul_rn(v, w[scaleAt + k]);
    if (shiftAt >= 0) v = __fadd_rn(v, w[shiftAt + k]);
    if (powerAt >= 0) v = __double2float_rn(pow((double)v, (double)w[powerAt + k]));
    out[i] = %s;
  }
}
`, name, c.store, c.store, scaleMetaHead, c.loadf("in[i]"), c.savef("v")), true
}

func scalePlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	s := l.(*dsl.ScaleLayer)
	shape := v.dims[l.Input(0)]
	want := s.WeightsCount(dsl.Dims(shape))
	inner, count := int64(1), int64(1)
	switch s.Mode() {
	case dsl.ScaleChannel:
		inner, count = volume(shape[s.ChannelAxis()+1:]), want
	case dsl.ScaleElementwise:
		count = want
	}
	var coefs []float32
	at := [3]int64{-1, -1, -1}
	for j, w := range []struct {
		name string
		w    dsl.Weights
	}{{"shift", s.Shift()}, {"scale", s.Scale()}, {"power", s.Power()}} {
		if w.w.IsEmpty() {
			continue
		}
		if w.w.Count() != want {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: at run time the input is %v: %v mode needs %d %s weights, the layer has %d", dsl.LayerString(l), shape, s.Mode(), want, w.name, w.w.Count())
		}
		at[j] = int64(len(coefs))
		coefs = append(coefs, w.w.Tensor().AsFloat32()...)
	}
	m := []int64{max(inner, 1), max(count, 1), at[0], at[1], at[2]}
	m = append(m, packFloat32s(coefs)...)
	n := volume(shape)
	return m, launch{n: n, grid: grid(n)}, nil
}

// packFloat32s puts float32 bits two to an int64, little end first, so a
// kernel reads them as a float array from where they start.
func packFloat32s(v []float32) []int64 {
	out := make([]int64, (len(v)+1)/2)
	for i, f := range v {
		out[i/2] |= int64(math.Float32bits(f)) << (32 * (i % 2))
	}
	return out
}
