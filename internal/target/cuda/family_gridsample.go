package cuda

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// GridSample: nearest (ties to even), bilinear and bicubic (A = -0.75)
// interpolation, the Fill, Clamp and Reflect sample modes, with and
// without align corners. Each thread computes one output element the way
// the CPU engine (internal/target/cpu/gridsample.go) does, in float64,
// operation by operation with the rounded intrinsics (__dadd_rn,
// __dmul_rn, __ddiv_rn: no contraction into FMAs), so the coordinates,
// the taps they select and the weights are the CPU's; the sum is rounded
// to float32 and then to the stored type, as there.
//
// Meta: [N, C, H, W, OH, OW].
func init() {
	registerFamily(dsl.LayerGridSample, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			gl := l.(*dsl.GridSampleLayer)
			switch {
			case !isFloat(l.Input(0).Type()) || l.Input(1).Type() != l.Input(0).Type():
				return false, "no grid sample kernel for " + l.Input(0).Type().String() + " with a grid of " + l.Input(1).Type().String()
			case gl.SampleMode() != dsl.SampleFill && gl.SampleMode() != dsl.SampleClamp && gl.SampleMode() != dsl.SampleReflect:
				return false, "no grid sample kernel for sample mode " + gl.SampleMode().String()
			case gl.InterpolationMode() != dsl.InterpolationNearest && gl.InterpolationMode() != dsl.InterpolationLinear && gl.InterpolationMode() != dsl.InterpolationCubic:
				return false, "no grid sample kernel for interpolation " + gl.InterpolationMode().String()
			}
			return true, ""
		},
		source: gridSampleKernel,
		plan:   gridSamplePlan,
	})
}

// gridSampleHelpers are the CPU engine's sampler functions in float64
// (unnormalize, bound with gridReflect, the cubic weights) for one align
// corners setting and sample mode (0 fill, 1 clamp, 2 reflect), in a
// namespace named after the kernel: kernels are compiled together as one
// program. Format arguments: the kernel's name, align corners (true or
// false), the sample mode.
const gridSampleHelpers = `namespace %[1]s_gs {
constexpr bool align = %[2]s;
constexpr int mode = %[3]d;
__device__ __forceinline__ double gs_unnormalize(double c, i64 size) {
  if constexpr (align) return __dmul_rn(__ddiv_rn(__dadd_rn(c, 1.0), 2.0), (double)(size - 1));
  return __ddiv_rn(__dadd_rn(__dmul_rn(__dadd_rn(c, 1.0), (double)size), -1.0), 2.0);
}
__device__ __forceinline__ double gs_reflect(double c, double twiceLo, double twiceHi) {
  if (twiceLo == twiceHi) return 0.0;
  double lo = __ddiv_rn(twiceLo, 2.0), span = __ddiv_rn(__dadd_rn(twiceHi, -twiceLo), 2.0);
  c = fabs(__dadd_rn(c, -lo));
  double extra = fmod(c, span);
  if ((i64)floor(__ddiv_rn(c, span)) %% 2 == 0) return __dadd_rn(extra, lo);
  return __dadd_rn(__dadd_rn(span, -extra), lo);
}
// clamp is Go's min(max(c, 0), size-1); NaN stays NaN.
__device__ __forceinline__ double gs_clamp(double c, i64 size) {
  if (c < 0.0) c = 0.0;
  double hi = (double)(size - 1);
  if (c > hi) c = hi;
  return c;
}
__device__ __forceinline__ double gs_bound(double c, i64 size) {
  if constexpr (mode == 1) return gs_clamp(c, size);
  if constexpr (mode == 2) {
    if constexpr (align) c = gs_reflect(c, 0.0, __dmul_rn(2.0, (double)(size - 1)));
    else c = gs_reflect(c, -1.0, __dadd_rn(__dmul_rn(2.0, (double)size), -1.0));
    return gs_clamp(c, size);
  }
  return c;
}
// near and far are the cubic weights for |d| <= 1 and 1 < |d| < 2, A = -0.75.
__device__ __forceinline__ double gs_near(double d) {
  return __dadd_rn(__dmul_rn(__dmul_rn(__dadd_rn(__dmul_rn(1.25, d), -2.25), d), d), 1.0);
}
__device__ __forceinline__ double gs_far(double d) {
  return __dadd_rn(__dmul_rn(__dadd_rn(__dmul_rn(__dadd_rn(__dmul_rn(-0.75, d), 3.75), d), -6.0), d), 3.0);
}
}
`

func gridSampleKernel(name string, l dsl.Layer) (string, bool) {
	gl := l.(*dsl.GridSampleLayer)
	dt := l.Input(0).Type()
	c, ok := typeOf(dt)
	if !ok || !isFloat(dt) || l.Input(1).Type() != dt {
		return "", false
	}
	mode := map[dsl.SampleMode]int{dsl.SampleFill: 0, dsl.SampleClamp: 1, dsl.SampleReflect: 2}
	sm, ok := mode[gl.SampleMode()]
	if !ok {
		return "", false
	}
	align := "false"
	if gl.AlignCorners() {
		align = "true"
	}
	px := func(y, x string) string {
		return fmt.Sprintf("((%[1]s) < 0 || (%[1]s) >= H || (%[2]s) < 0 || (%[2]s) >= W ? 0.0 : (double)%[3]s)", y, x, c.loadf(fmt.Sprintf("plane[(%s) * W + (%s)]", y, x)))
	}
	var body string
	switch gl.InterpolationMode() {
	case dsl.InterpolationNearest:
		body = fmt.Sprintf(`    x = gs_bound(x, W); y = gs_bound(y, H);
    // Go's int(NaN) is out of range (the pixel reads 0); CUDA's is 0.
    i64 iy = y != y ? -1 : (i64)rint(y), ix = x != x ? -1 : (i64)rint(x);
    double s = %s;`, px("iy", "ix"))
	case dsl.InterpolationLinear:
		body = fmt.Sprintf(`    x = gs_bound(x, W); y = gs_bound(y, H);
    double x0 = floor(x), y0 = floor(y);
    double fx = __dadd_rn(x, -x0), fy = __dadd_rn(y, -y0);
    double gx = __dadd_rn(1.0, -fx), gy = __dadd_rn(1.0, -fy);
    i64 ix = (i64)x0, iy = (i64)y0;
    double top = __dadd_rn(__dmul_rn(gx, %s), __dmul_rn(fx, %s));
    double bot = __dadd_rn(__dmul_rn(gx, %s), __dmul_rn(fx, %s));
    double s = __dadd_rn(__dmul_rn(gy, top), __dmul_rn(fy, bot));`,
			px("iy", "ix"), px("iy", "ix + 1"), px("iy + 1", "ix"), px("iy + 1", "ix + 1"))
	case dsl.InterpolationCubic:
		body = fmt.Sprintf(`    double x0 = floor(x), y0 = floor(y);
    double tx = __dadd_rn(x, -x0), ty = __dadd_rn(y, -y0);
    double wx[4] = {gs_far(__dadd_rn(tx, 1.0)), gs_near(tx), gs_near(__dadd_rn(1.0, -tx)), gs_far(__dadd_rn(2.0, -tx))};
    double wy[4] = {gs_far(__dadd_rn(ty, 1.0)), gs_near(ty), gs_near(__dadd_rn(1.0, -ty)), gs_far(__dadd_rn(2.0, -ty))};
    double s = 0.0;
    for (int j = 0; j < 4; ++j) {
      i64 py = (i64)gs_bound(__dadd_rn(__dadd_rn(y0, -1.0), (double)j), H);
      double row = 0.0;
      for (int q = 0; q < 4; ++q) {
        i64 pq = (i64)gs_bound(__dadd_rn(__dadd_rn(x0, -1.0), (double)q), W);
        row = __dadd_rn(row, __dmul_rn(wx[q], %s));
      }
      s = __dadd_rn(s, __dmul_rn(wy[j], row));
    }`, px("py", "pq"))
	default:
		return "", false
	}
	return fmt.Sprintf(gridSampleHelpers, name, align, sm) + fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %[2]s* __restrict__ out, const %[2]s* __restrict__ in, const %[2]s* __restrict__ g) {
  using namespace %[1]s_gs;
  i64 C = m[1], H = m[2], W = m[3], P = m[4] * m[5];
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 p = i / P, o = i %% P, b = p / C;
    const %[2]s* plane = in + p * H * W;
    const %[2]s* gp = g + (b * P + o) * 2;
    double x = gs_unnormalize((double)%[3]s, W), y = gs_unnormalize((double)%[4]s, H);
%[5]s
    out[i] = %[6]s;
  }
}
`, name, c.store, c.loadf("gp[0]"), c.loadf("gp[1]"), body, c.savef("(float)s")), true
}

func gridSamplePlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	xs, gs := v.dims[l.Input(0)], v.dims[l.Input(1)]
	if len(xs) != 4 || len(gs) != 4 || xs[0] != gs[0] || gs[3] != 2 {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: grid has shape %v; want (%d, Hout, Wout, 2) for input %v", dsl.LayerString(l), gs, xs[0], xs)
	}
	out := []int64{xs[0], xs[1], gs[1], gs[2]}
	n := volume(out)
	if (xs[2] == 0 || xs[3] == 0) && n > 0 {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: cannot sample an empty input %v", dsl.LayerString(l), xs)
	}
	return []int64{xs[0], xs[1], xs[2], xs[3], gs[1], gs[2]}, launch{n: n, grid: grid(n)}, nil
}
