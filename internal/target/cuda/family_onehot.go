package cuda

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// OneHot: one thread per output element (o, d, i), which copies (as bits)
// values[1] where index (o, i) is d and values[0] elsewhere. As on the CPU
// engine an index in [-depth, 0) counts from the end and one outside
// [-depth, depth) gives an all-off vector (no fault).
//
// depth is input 2, a parameter: plan checks it is positive. Meta:
// [depth, inner volume (the indices' volume after the one-hot axis)].
func init() {
	registerFamily(dsl.LayerOneHot, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			if _, ok := bitsOf(l.Input(1).Type()); !ok {
				return false, "no OneHot kernel for values of " + l.Input(1).Type().String()
			}
			if _, ok := indexCType(l.Input(0).Type()); !ok {
				return false, "no OneHot kernel for indices of " + l.Input(0).Type().String()
			}
			return true, ""
		},
		source: oneHotKernel,
		plan:   oneHotPlan,
		params: []int{2},
	})
}

func oneHotKernel(name string, l dsl.Layer) (string, bool) {
	ix, ok1 := indexCType(l.Input(0).Type())
	t, ok2 := bitsOf(l.Input(1).Type())
	if !ok1 || !ok2 {
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ idx, const %s* __restrict__ vals) {
  const i64 D = m[0], inner = m[1];
  const %[2]s off = vals[0], on = vals[1];
  for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (i64)gridDim.x * blockDim.x) {
    i64 i = e %% inner, t = e / inner, d = t %% D, o = t / D;
    i64 v = (i64)idx[o * inner + i];
    if (v < 0) v += D;
    out[e] = v == d ? on : off;
  }
}
`, name, t, ix, t), true
}

func oneHotPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	is := v.dims[l.Input(0)]
	if nv := volume(v.dims[l.Input(1)]); nv != 2 {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: at run time, values has %d elements; want [off_value, on_value]", dsl.LayerString(l), nv)
	}
	dv, ok := v.values[l.Input(2)]
	if !ok || len(dv) != 1 {
		return nil, launch{}, diag.Errorf(diag.Internal, "%s: the depth (%q) is not known when the launch is planned", dsl.LayerString(l), l.Input(2).Name())
	}
	depth := dv[0]
	if depth <= 0 {
		return nil, launch{}, diag.Errorf(diag.OutOfRange, "%s: at run time, depth is %d; it must be positive", dsl.LayerString(l), depth)
	}
	axis, ok := dsl.NormalizeAxis(l.(*dsl.OneHotLayer).Axis(), len(is)+1)
	if !ok {
		return nil, launch{}, diag.Errorf(diag.InvalidNode, "%s: axis %d is out of range for indices of rank %d", dsl.LayerString(l), l.(*dsl.OneHotLayer).Axis(), len(is))
	}
	n := volume(is) * depth
	return []int64{depth, volume(is[axis:])}, launch{n: n, grid: grid(n)}, nil
}
