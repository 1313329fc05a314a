package cuda

import (
	"fmt"

	"github.com/trtc/trtc/dsl"
)

// Integer division, floor division and power: one thread per output
// element, the operands read through the pointwise kernels' broadcast
// metadata. Their C forms are not the CPU engine's Go ones where C leaves
// them undefined, so each is written out: a division by -1 negates (the
// most negative value stays itself, as in Go), a zero divisor records a
// fault (the CPU engine's "integer division by zero" error, naming the
// divisor's element) and stores 0, and the power multiplies in unsigned
// arithmetic so it wraps as Go's does. Stores wrap to the output type.
// These layers are not fused with other pointwise layers: a fused kernel
// has no fault slot.
//
// Meta: broadcastMeta of the output and both operands; n is the output's
// volume.
func init() {
	registerFamily(dsl.LayerElementWise, &kernelFamily{
		takes: isIntegerArithmetic,
		lower: func(l dsl.Layer) (bool, string) {
			for j := 0; j < 2; j++ {
				if l.Input(j).Rank() != l.Output(0).Rank() {
					return false, "inputs of another rank than the output"
				}
			}
			return true, ""
		},
		source: intArithKernel,
		plan: func(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
			out := v.dims[l.Output(0)]
			n := volume(out)
			return broadcastMeta(out, [][]int64{v.dims[l.Input(0)], v.dims[l.Input(1)]}), launch{n: n, grid: grid(n)}, nil
		},
		fault: func(l dsl.Layer, _ shapeValues, pos, _ int64) error {
			return fmt.Errorf("integer division by zero at element %d of %q", pos, l.Input(1).Name())
		},
	})
}

// isIntegerArithmetic reports whether l is an integer Div, FloorDiv or
// Pow with a C type for its operands and output (Bool has none here).
func isIntegerArithmetic(l dsl.Layer) bool {
	e, ok := l.(*dsl.ElementWiseLayer)
	if !ok {
		return false
	}
	switch e.Operation() {
	case dsl.ElementWiseDiv, dsl.ElementWiseFloorDiv, dsl.ElementWisePow:
	default:
		return false
	}
	for _, t := range []*dsl.Tensor{l.Input(0), l.Input(1), l.Output(0)} {
		if _, ok := typeOf(t.Type()); !ok || isFloat(t.Type()) || t.Type() == dsl.Bool {
			return false
		}
	}
	return true
}

func intArithKernel(name string, l dsl.Layer) (string, bool) {
	if !isIntegerArithmetic(l) {
		return "", false
	}
	a, _ := typeOf(l.Input(0).Type())
	b, _ := typeOf(l.Input(1).Type())
	o, _ := typeOf(l.Output(0).Type())
	// q is x op y, in i64; a zero divisor has faulted before.
	var op string
	switch l.(*dsl.ElementWiseLayer).Operation() {
	case dsl.ElementWiseDiv:
		op = "q = y == -1 ? (i64)(0ULL - (unsigned long long)x) : x / y;"
	case dsl.ElementWiseFloorDiv:
		op = "q = y == -1 ? (i64)(0ULL - (unsigned long long)x) : x / y;\n" +
			"      if (y != -1 && x % y != 0 && ((x < 0) != (y < 0))) q -= 1;"
	case dsl.ElementWisePow:
		op = "if (y < 0) {\n" +
			"        q = x == 1 ? 1 : (x == -1 ? ((y & 1) ? -1 : 1) : 0);\n" +
			"      } else {\n" +
			"        unsigned long long r = 1, p = (unsigned long long)x;\n" +
			"        for (i64 e = y; e > 0; e >>= 1) { if (e & 1) r *= p; p *= p; }\n" +
			"        q = (i64)r;\n" +
			"      }"
	}
	guard := ""
	if l.(*dsl.ElementWiseLayer).Operation() != dsl.ElementWisePow {
		guard = fmt.Sprintf("if (y == 0) { trtc_fault(fault, o1, 0); out[i] = %s; continue; }\n      ", o.savef("0"))
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %[2]s* __restrict__ out, const %[3]s* __restrict__ in0, const %[4]s* __restrict__ in1) {
  const int r = (int)m[0]; const i64* d = m + 1;
  const i64* s0 = d + r + 1; const int m0 = (int)s0[-1];
  const i64* s1 = d + r + (r + 1) + 1; const int m1 = (int)s1[-1];
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    const i64 o0 = m0 == %[5]d ? i : (m0 == %[6]d ? 0 : offset(i, r, d, s0));
    const i64 o1 = m1 == %[5]d ? i : (m1 == %[6]d ? 0 : offset(i, r, d, s1));
    const i64 x = %[7]s, y = %[8]s;
    i64 q;
    %[9]s%[10]s
    out[i] = %[11]s;
  }
}
`, name, o.store, a.store, b.store, indexSame, indexScalar, a.loadf("in0[o0]"), b.loadf("in1[o1]"), guard, op, o.savef("q")), true
}
