package cuda

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Cumulative (CumulativeSum, the only operation the DSL has): one thread
// per line along the axis, walking it in the CPU engine's order (forward
// or reverse, the exclusive sum stored before the element is added).
// Floats sum in double and round once on store, as the CPU engine does
// (float64, rounded to float32 to nearest even; to half and bfloat16
// through float32 rounded to odd, which is the same as rounding the
// double to nearest even directly), so the results are bit-identical;
// integers sum in 64 bits with wrapping and wrap on store (Int32).
//
// The axis is input 1, a parameter. Meta: [axis length, inner volume
// (the axis' stride)]; n is the number of lines.
func init() {
	registerFamily(dsl.LayerCumulative, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			c := l.(*dsl.CumulativeLayer)
			if c.Operation() != dsl.CumulativeSum {
				return false, "no kernel for cumulative " + c.Operation().String()
			}
			if _, ok := cumulativeTypes(l.Input(0).Type()); !ok {
				return false, "no cumulative kernel for " + l.Input(0).Type().String()
			}
			return true, ""
		},
		source: cumulativeKernel,
		plan:   cumulativePlan,
		params: []int{1},
	})
}

// cumulativeTypes is the kernel's accumulator: its C type, how a loaded
// value x widens to it and how the sum s is stored.
func cumulativeTypes(dt dsl.DataType) (acc [3]string, ok bool) {
	switch dt {
	case dsl.Float32:
		return [3]string{"double", "(double)x", "(float)s"}, true
	case dsl.Float16:
		return [3]string{"double", "(double)h2f(x)", "f2h(cum_d2f_odd(s))"}, true
	case dsl.BFloat16:
		return [3]string{"double", "(double)b2f(x)", "f2b(cum_d2f_odd(s))"}, true
	case dsl.Int32:
		return [3]string{"unsigned long long", "(unsigned long long)(long long)x", "(int)(unsigned)s"}, true
	case dsl.Int64:
		return [3]string{"unsigned long long", "(unsigned long long)x", "(i64)s"}, true
	}
	return acc, false
}

func cumulativeKernel(name string, l dsl.Layer) (string, bool) {
	c := l.(*dsl.CumulativeLayer)
	dt := l.Input(0).Type()
	acc, ok1 := cumulativeTypes(dt)
	ct, ok2 := typeOf(dt)
	if !ok1 || !ok2 || c.Operation() != dsl.CumulativeSum {
		return "", false
	}
	first, step := "0", "1"
	if c.Reverse() {
		first, step = "(N - 1) * inner", "-1"
	}
	store := "out[p] = " + strings.ReplaceAll(acc[2], "cum_d2f_odd", name+"_d2f_odd") + ";"
	before, after := store, ""
	if !c.Exclusive() {
		before, after = "", store
	}
	// NAME_d2f_odd (named after the kernel, as a module holds many)
	// rounds a double to float toward zero and sets the last bit where
	// that was inexact: rounding to odd.
	return fmt.Sprintf(`__device__ __forceinline__ float %[1]s_d2f_odd(double v) {
  float f = __double2float_rz(v);
  if ((double)f != v && v == v) f = __uint_as_float(__float_as_uint(f) | 1u);
  return f;
}
extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %[2]s* __restrict__ out, const %[2]s* __restrict__ in) {
  const i64 N = m[0], inner = m[1];
  for (i64 line = (i64)blockIdx.x * blockDim.x + threadIdx.x; line < n; line += (i64)gridDim.x * blockDim.x) {
    const i64 base = (line / inner) * N * inner + line %% inner;
    %[3]s s = 0;
    i64 p = base + %[4]s;
    for (i64 j = 0; j < N; ++j, p += %[5]s * inner) {
      %[6]s
      { %[2]s x = in[p]; s += %[7]s; }
      %[8]s
    }
  }
}
`, name, ct.store, acc[0], first, step, before, acc[1], after), true
}

// cumulativeAxis is the layer's axis for data of rank r: input 1's value
// from the shape plan, else the build-time one.
func cumulativeAxis(l dsl.Layer, v shapeValues, r int) (int, error) {
	if t := l.Input(1); t != nil {
		if a, ok := v.values[t]; ok && len(a) == 1 {
			if ax, ok := dsl.NormalizeAxis(int(a[0]), r); ok {
				return ax, nil
			}
			return 0, diag.Errorf(diag.InvalidNode, "%s: axis %d is out of range [%d, %d] for data of rank %d", dsl.LayerString(l), a[0], -r, r-1, r)
		}
	}
	if ax, ok := l.(*dsl.CumulativeLayer).Axis(); ok {
		return ax, nil
	}
	return 0, diag.Errorf(diag.Internal, "%s: cumulative axis unknown when the launch is planned", dsl.LayerString(l))
}

func cumulativePlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	d := v.dims[l.Input(0)]
	axis, err := cumulativeAxis(l, v, len(d))
	if err != nil {
		return nil, launch{}, err
	}
	inner := volume(d[axis+1:])
	lines := volume(d[:axis]) * inner
	return []int64{d[axis], inner}, launch{n: lines, grid: grid(lines)}, nil
}
