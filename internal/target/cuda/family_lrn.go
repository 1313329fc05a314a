package cuda

import (
	"fmt"
	"math"

	"github.com/trtc/trtc/dsl"
)

// LRN: one thread per element of the (N, C, spatial...) input sums the
// squares of the window's channels at its position in float64, in
// channel order, and divides by (k + alpha/window*sum)^beta in float64,
// as the CPU engine does; the result rounds to float32 and then to the
// output's type. The arithmetic uses the _rn intrinsics so NVRTC does
// not contract it into FMAs the CPU engine does not use.
//
// Meta: [C, S (spatial volume), half window, alpha/window, beta, k]
// (the last three as float64 bits).
func init() {
	registerFamily(dsl.LayerLRN, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			if !isFloat(l.Input(0).Type()) {
				return false, "no LRN kernel for " + l.Input(0).Type().String()
			}
			return true, ""
		},
		source: lrnKernel,
		plan: func(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
			ll := l.(*dsl.LRNLayer)
			in := v.dims[l.Input(0)]
			alpha := float64(ll.Alpha()) / float64(ll.WindowSize())
			m := []int64{in[1], volume(in[2:]), ll.WindowSize() / 2,
				int64(math.Float64bits(alpha)), int64(math.Float64bits(float64(ll.Beta()))), int64(math.Float64bits(float64(ll.K())))}
			n := volume(in)
			return m, launch{n: n, grid: grid(n)}, nil
		},
	})
}

func lrnKernel(name string, l dsl.Layer) (string, bool) {
	dt := l.Input(0).Type()
	c, ok := typeOf(dt)
	if !ok || !isFloat(dt) {
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ in) {
  i64 C = m[0], S = m[1], half = m[2];
  double alpha = __longlong_as_double(m[3]), beta = __longlong_as_double(m[4]), k = __longlong_as_double(m[5]);
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 c = (i / S) %% C;
    i64 base = i - c * S;
    i64 lo = c - half < 0 ? 0 : c - half, hi = c + half > C - 1 ? C - 1 : c + half;
    double sum = 0.0;
    for (i64 j = lo; j <= hi; ++j) {
      double v = (double)(%s);
      sum = __dadd_rn(sum, __dmul_rn(v, v));
    }
    double den = pow(__dadd_rn(k, __dmul_rn(alpha, sum)), beta);
    float y = __double2float_rn(__ddiv_rn((double)(%s), den));
    out[i] = %s;
  }
}
`, name, c.store, c.store, c.loadf("in[base + j * S]"), c.loadf("in[i]"), c.savef("y")), true
}
