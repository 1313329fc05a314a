package cuda

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// RaggedSoftMax: one thread per row, which checks its length from the
// bounds (data) and computes the softmax of the row's first length
// values as the CPU engine does: the maximum in float (NaN wins), each
// exponent of the float difference in double, their sum in double, each
// value the exponent rounded to float times the double reciprocal,
// rounded to float and then to the output type; the padding is 0. A length outside [0, S] records a
// fault (the CPU engine's error; where several are bad, which one it names
// may differ) and its row is zeros.
//
// Meta: [S]; n is the number of rows.
func init() {
	registerFamily(dsl.LayerRaggedSoftMax, &kernelFamily{
		source: raggedSoftMaxKernel,
		plan: func(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
			d, b := v.dims[l.Input(0)], v.dims[l.Input(1)]
			if len(d) != 3 || len(b) != 3 || b[0] != d[0] || b[1] != d[1] || b[2] != 1 {
				return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: at run time input is %v and bounds is %v; want bounds [%d,%d,1]", dsl.LayerString(l), d, b, d[0], d[1])
			}
			rows := d[0] * d[1]
			return []int64{d[2]}, launch{n: rows, grid: grid(rows)}, nil
		},
		fault: func(l dsl.Layer, v shapeValues, pos, val int64) error {
			return fmt.Errorf("bounds[%d] is %d; sequence lengths must be in [0, %d]", pos, val, v.dims[l.Input(0)][2])
		},
	})
}

func raggedSoftMaxKernel(name string, l dsl.Layer) (string, bool) {
	c, ok := typeOf(l.Input(0).Type())
	if !ok || !isFloat(l.Input(0).Type()) || l.Input(1).Type() != dsl.Int32 {
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %[2]s* __restrict__ out, const %[2]s* __restrict__ x, const int* __restrict__ bounds) {
  const i64 S = m[0];
  for (i64 r = (i64)blockIdx.x * blockDim.x + threadIdx.x; r < n; r += (i64)gridDim.x * blockDim.x) {
    const %[2]s* xr = x + r * S;
    %[2]s* yr = out + r * S;
    const i64 len = (i64)bounds[r];
    if (len < 0 || len > S) {
      trtc_fault(fault, r, len);
      for (i64 j = 0; j < S; ++j) yr[j] = %[3]s;
      continue;
    }
    float mx = __int_as_float(0xff800000);
    for (i64 j = 0; j < len; ++j) { const float v = %[4]s; if (v > mx || v != v) mx = v; }
    if (mx == __int_as_float(0xff800000)) mx = 0.f;
    double sum = 0.0;
    for (i64 j = 0; j < len; ++j) sum += exp((double)__fsub_rn(%[4]s, mx));
    const double inv = 1.0 / sum;
    for (i64 j = 0; j < len; ++j) yr[j] = %[5]s;
    for (i64 j = len; j < S; ++j) yr[j] = %[3]s;
  }
}
`, name, c.store, c.savef("0.f"), c.loadf("xr[j]"), c.savef("(float)((double)(float)exp((double)__fsub_rn("+c.loadf("xr[j]")+", mx)) * inv)")), true
}
