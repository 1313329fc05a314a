package cuda

import (
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Fill: Linspace, RandomUniform and RandomNormal, one thread per element
// (grid-stride).
//
// Linspace computes alpha + sum_k beta[k]*index[k] as the CPU engine
// does: in int64 (wrapping) when alpha and beta are integers, else in
// float64 in axis order without FMA; the output stores as
// tensor.SetInt64 / SetFloat64 do (float32 rounds once, int32
// saturates, floats to ints truncate with saturation, NaN gives 0).
//
// RandomUniform reproduces the CPU engine's draws bit for bit: its
// generator is math/rand/v2's PCG (128-bit LCG, DXSM output) seeded with
// (dsl.FillSeed, FNV-1a of the layer name), and element i is
// alpha + (beta-alpha)*u with u the low 53 bits of draw i+1 over 2^53.
// An LCG can jump ahead in O(log n) steps, so each thread jumps to its
// first element and then by its grid stride.
//
// RandomNormal is the CPU engine's Box-Muller on draws 2i+1 and 2i+2 (the
// generator jumps to them): sqrt(-2 ln u1) cos(2 pi u2), each product
// rounded on its own; the GPU's log and cos are within an ulp or two of
// Go's in double, so an element stored as float32 or half equals the CPU
// engine's but where the double lies within a few ulps of a rounding
// boundary (the differential tests compare within tolerance).
//
// alpha and beta are read from the layer (in the metadata) or, when
// inputs 1 and 2 are set, from device memory by the kernel, so they may
// be computed on the GPU and need no host values; the output dims (input
// 0) come from the shape plan.
//
// Meta: Linspace [rank, dims (rank), static alpha, static beta];
// RandomUniform and RandomNormal [FNV-1a of the name, static alpha,
// static beta]; alpha and beta as int64 for integer math, float64 bits
// otherwise.
func init() {
	registerFamily(dsl.LayerFill, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			f := l.(*dsl.FillLayer)
			if _, ok := fillKernel("probe", l); !ok {
				return false, fmt.Sprintf("no %v fill kernel for %v", f.Operation(), f.ToType())
			}
			return true, ""
		},
		source: fillKernel,
		plan:   fillPlan,
	})
}

// fillIntMath reports whether a Linspace computes in int64.
func fillIntMath(f *dsl.FillLayer) bool {
	if a := f.Input(1); a != nil {
		return a.Type() == dsl.Int32 || a.Type() == dsl.Int64
	}
	return f.IsAlphaBetaInt64()
}

// pcgHelpers are math/rand/v2's PCG on the device: 128-bit arithmetic on
// two 64-bit words, the jump of delta steps as a multiplier and an
// increment (state*am + ac), and the DXSM output of a state.
const pcgHelpers = `#ifndef TRTC_PCG_HELPERS
#define TRTC_PCG_HELPERS
struct trtc_u128 { unsigned long long hi, lo; };
__device__ __forceinline__ trtc_u128 trtc_mul128(trtc_u128 a, trtc_u128 b) {
  trtc_u128 r;
  r.lo = a.lo * b.lo;
  r.hi = __umul64hi(a.lo, b.lo) + a.hi * b.lo + a.lo * b.hi;
  return r;
}
__device__ __forceinline__ trtc_u128 trtc_add128(trtc_u128 a, trtc_u128 b) {
  trtc_u128 r;
  r.lo = a.lo + b.lo;
  r.hi = a.hi + b.hi + (r.lo < a.lo ? 1ull : 0ull);
  return r;
}
__device__ void trtc_pcg_jump(unsigned long long delta, trtc_u128* am, trtc_u128* ac) {
  trtc_u128 cm = {2549297995355413924ull, 4865540595714422341ull};
  trtc_u128 cc = {6364136223846793005ull, 1442695040888963407ull};
  trtc_u128 one = {0ull, 1ull};
  trtc_u128 m = one, c = {0ull, 0ull};
  while (delta) {
    if (delta & 1ull) { m = trtc_mul128(m, cm); c = trtc_add128(trtc_mul128(c, cm), cc); }
    cc = trtc_mul128(trtc_add128(cm, one), cc);
    cm = trtc_mul128(cm, cm);
    delta >>= 1;
  }
  *am = m;
  *ac = c;
}
__device__ __forceinline__ unsigned long long trtc_pcg_out(trtc_u128 s) {
  unsigned long long hi = s.hi;
  hi ^= hi >> 32;
  hi *= 0xda942042e4dd58b5ull;
  hi ^= hi >> 48;
  hi *= (s.lo | 1ull);
  return hi;
}
#endif
`

// fillSaveInt is tensor.SetInt64 into an element of dt; fillSaveFloat
// tensor.SetFloat64 (the value is the C expression v).
func fillSaveInt(dt dsl.DataType) (string, bool) {
	switch dt {
	case dsl.Float32:
		return "__ll2float_rn(v)", true
	case dsl.Int32:
		return "(int)trtc_sat32(v)", true
	case dsl.Int64:
		return "v", true
	}
	return "", false
}

func fillSaveFloat(dt dsl.DataType) (string, bool) {
	switch dt {
	case dsl.Float32:
		return "__double2float_rn(v)", true
	case dsl.Float16:
		return "f2h(trtc_odd(v))", true
	case dsl.Int32:
		return "(int)trtc_sat32(trtc_d2i64(v))", true
	case dsl.Int64:
		return "trtc_d2i64(v)", true
	}
	return "", false
}

// fillHelpers convert as the tensor package does: trtc_d2i64 is
// tensor.FloatToInt64 (truncation, saturation, NaN to 0), trtc_sat32
// the int32 saturation of SetInt64.
const fillHelpers = `#ifndef TRTC_FILL_HELPERS
#define TRTC_FILL_HELPERS
__device__ __forceinline__ i64 trtc_d2i64(double v) {
  if (v != v) return 0;
  if (v >= 9.223372036854775807e18) return 9223372036854775807LL;
  if (v <= -9.223372036854775808e18) return -9223372036854775807LL - 1;
  return (i64)v;
}
__device__ __forceinline__ i64 trtc_sat32(i64 v) { return v < -2147483648LL ? -2147483648LL : v > 2147483647LL ? 2147483647LL : v; }
#endif
`

func fillKernel(name string, l dsl.Layer) (string, bool) {
	f := l.(*dsl.FillLayer)
	oc, ok := typeOf(f.ToType())
	if !ok {
		return "", false
	}
	params := ""
	if d := l.Input(0); d != nil {
		c, ok := indexCType(d.Type())
		if !ok {
			return "", false
		}
		params += fmt.Sprintf(", const %s* __restrict__ dims", c)
	}
	var ac ctype
	inputs := l.Input(1) != nil && l.Input(2) != nil
	if inputs {
		if ac, ok = typeOf(l.Input(1).Type()); !ok || l.Input(2).Type() != l.Input(1).Type() {
			return "", false
		}
		params += fmt.Sprintf(", const %s* __restrict__ alpha, const %s* __restrict__ beta", ac.store, ac.store)
	} else if l.Input(1) != nil || l.Input(2) != nil {
		return "", false
	}
	var b strings.Builder
	b.WriteString(quantHelpers) // trtc_odd
	b.WriteString(fillHelpers)
	switch f.Operation() {
	case dsl.FillLinspace:
		intMath := fillIntMath(f)
		save, ok := fillSaveFloat(f.ToType())
		if intMath {
			save, ok = fillSaveInt(f.ToType())
		}
		if !ok || f.ToType() == dsl.Float16 {
			return "", false
		}
		num, alpha, beta := "double", "__longlong_as_double(m[1 + r])", "__longlong_as_double(m[2 + r])"
		if intMath {
			num, alpha, beta = "i64", "m[1 + r]", "m[2 + r]"
		}
		if inputs {
			alpha, beta = "(double)"+ac.loadf("alpha[0]"), "(double)"+ac.loadf("beta[k]")
			if intMath {
				alpha, beta = "(i64)"+ac.loadf("alpha[0]"), "(i64)"+ac.loadf("beta[k]")
			}
		}
		step := fmt.Sprintf("v = __dadd_rn(v, __dmul_rn(%s, (double)c[k]))", beta)
		if intMath {
			step = fmt.Sprintf("v = (i64)((unsigned long long)v + (unsigned long long)(%s) * (unsigned long long)c[k])", beta)
		}
		fmt.Fprintf(&b, `extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out%s) {
  int r = (int)m[0];
  const i64* d = m + 1;
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 c[8];
    i64 rem = i;
    for (int k = r - 1; k >= 0; --k) { c[k] = rem %% d[k]; rem /= d[k]; }
    %s v = %s;
    for (int k = 0; k < r; ++k) %s;
    out[i] = %s;
  }
}
`, name, oc.store, params, num, alpha, step, save)
	case dsl.FillRandomUniform, dsl.FillRandomNormal:
		save, ok := fillSaveFloat(f.ToType())
		if !ok || !isFloat(f.ToType()) || f.ToType() == dsl.BFloat16 {
			return "", false
		}
		alpha, beta := "__longlong_as_double(m[1])", "__longlong_as_double(m[2])"
		if inputs {
			alpha, beta = "(double)"+ac.loadf("alpha[0]"), "(double)"+ac.loadf("beta[0]")
		}
		// Element i takes draw i+1 (uniform) or draws 2i+1 and 2i+2
		// (normal); s is the state of its first.
		draws, value := 1, `const double u = __dmul_rn((double)(trtc_pcg_out(s) & 0x1fffffffffffffull), 0x1p-53);
    const double v = __dadd_rn(a, __dmul_rn(__dsub_rn(b, a), u));`
		if f.Operation() == dsl.FillRandomNormal {
			draws, value = 2, `const unsigned long long x1 = trtc_pcg_out(s), x2 = trtc_pcg_out(trtc_add128(trtc_mul128(s, m1), c1));
    const double u1 = __dmul_rn((double)((x1 & 0x1fffffffffffffull) + 1ull), 0x1p-53);
    const double u2 = __dmul_rn((double)(x2 & 0x1fffffffffffffull), 0x1p-53);
    const double z = __dmul_rn(__dsqrt_rn(__dmul_rn(-2.0, log(u1))), cos(__dmul_rn(0x1.921fb54442d18p+2, u2)));
    const double v = __dadd_rn(a, __dmul_rn(b, z));`
		}
		b.WriteString(pcgHelpers)
		fmt.Fprintf(&b, `extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out%s) {
  const double a = %s, b = %s;
  i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x, stride = (i64)gridDim.x * blockDim.x;
  if (i >= n) return;
  trtc_u128 s = {%dull, (unsigned long long)m[0]}, am, ac, m1, c1;
  trtc_pcg_jump(%dull * (unsigned long long)i + 1ull, &am, &ac);
  s = trtc_add128(trtc_mul128(s, am), ac);
  trtc_pcg_jump(1ull, &m1, &c1);
  trtc_pcg_jump(%dull * (unsigned long long)stride, &am, &ac);
  for (; i < n; i += stride) {
    %s
    out[i] = %s;
    s = trtc_add128(trtc_mul128(s, am), ac);
  }
}
`, name, oc.store, params, alpha, beta, uint64(dsl.FillSeed), draws, draws, value, save)
	default:
		return "", false
	}
	return b.String(), true
}

func fillPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	f := l.(*dsl.FillLayer)
	out := v.dims[l.Output(0)]
	n := volume(out)
	if n < 0 || n > 1<<40 {
		return nil, launch{}, diag.Errorf(diag.OutOfRange, "%s: fill dims %v: too many elements (the limit is 2^40)", dsl.LayerString(l), out)
	}
	alphaF, betaF := int64(math.Float64bits(f.Alpha())), int64(math.Float64bits(f.Beta()))
	var m []int64
	switch f.Operation() {
	case dsl.FillLinspace:
		if len(out) > 8 {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: a Linspace of rank %d; at most 8", dsl.LayerString(l), len(out))
		}
		if b := l.Input(2); b != nil {
			if got := volume(v.dims[b]); got != int64(len(out)) {
				return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: the Linspace delta %q has %d values at run time but the output has rank %d", dsl.LayerString(l), b.Name(), got, len(out))
			}
		}
		if l.Input(2) == nil && len(out) != 1 {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: a static Linspace beta is one delta, so the output must be 1-D; it has dims %v", dsl.LayerString(l), out)
		}
		m = append([]int64{int64(len(out))}, out...)
		if fillIntMath(f) {
			m = append(m, f.AlphaInt64(), f.BetaInt64())
		} else {
			m = append(m, alphaF, betaF)
		}
	case dsl.FillRandomUniform, dsl.FillRandomNormal:
		h := fnv.New64a()
		h.Write([]byte(l.Name()))
		m = []int64{int64(h.Sum64()), alphaF, betaF}
	default:
		return nil, launch{}, diag.Errorf(diag.Internal, "%s: no fill kernel for %v", dsl.LayerString(l), f.Operation())
	}
	return m, launch{n: n, grid: grid(n)}, nil
}
