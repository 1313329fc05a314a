package cuda

import (
	"fmt"
	"math"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	cpueng "github.com/trtc/trtc/internal/target/cpu"
)

// Quantize and Dequantize: one thread per element (per byte of an Int4
// output, which packs two), with the scale (and zero point) of the
// element's granularity: per-tensor, per-channel along the axis, or
// per block (quantIndexMeta, the CPU engine's quantScaleIndex). The
// arithmetic is the CPU engine's: Quantize divides in float32, rounds
// half to even, adds the zero point and saturates (Int8, Int4), or adds
// the zero point in float64 and rounds to the fp8 grid with satfinite
// (FP8E4M3, through float32 rounded to odd, as tensor.SetFloat64 does);
// Dequantize subtracts the zero point and multiplies in float32.
//
// Scales must be positive: block 0 scans them first and records the
// lowest bad one as a fault, the CPU engine's OutOfRange error.
//
// Meta: [scale count, element count, quantIndexMeta].
func init() {
	registerFamily(dsl.LayerQuantize, &kernelFamily{
		lower:  func(l dsl.Layer) (bool, string) { return quantLower(l, l.Input(0).Type(), l.Output(0).Type()) },
		source: quantizeKernel,
		plan: func(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
			q := l.(*dsl.QuantizeLayer)
			return quantPlan(l, v, q.Axis(), q.BlockShape(), l.Output(0).Type() == dsl.Int4)
		},
		fault: quantScaleFault,
	})
	registerFamily(dsl.LayerDequantize, &kernelFamily{
		lower:  func(l dsl.Layer) (bool, string) { return quantLower(l, l.Output(0).Type(), l.Input(0).Type()) },
		source: dequantizeKernel,
		plan: func(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
			d := l.(*dsl.DequantizeLayer)
			return quantPlan(l, v, d.Axis(), d.BlockShape(), false)
		},
		fault: quantScaleFault,
	})
}

// quantLower accepts the types the DSL allows: float data and scale,
// a quantized type of Int8, FP8E4M3 or Int4.
func quantLower(l dsl.Layer, float, quant dsl.DataType) (bool, string) {
	if !isFloat(float) || !isFloat(l.Input(1).Type()) || quantStore(quant) == "" {
		return false, fmt.Sprintf("no quantization kernel for %v and %v", float, quant)
	}
	return true, ""
}

func quantScaleFault(l dsl.Layer, _ shapeValues, pos, val int64) error {
	return fmt.Errorf("scale element %d is %g; every scale must be strictly positive", pos, float64(math.Float32frombits(uint32(val))))
}

// quantStore is the C type a quantized element (a byte of two, for Int4)
// is stored as, or "".
func quantStore(dt dsl.DataType) string {
	switch dt {
	case dsl.Int8:
		return "signed char"
	case dsl.FP8E4M3, dsl.Int4:
		return "unsigned char"
	}
	return ""
}

// quantLoad reads element e of quantized array a as a float (exact).
func quantLoad(dt dsl.DataType, a, e string) string {
	switch dt {
	case dsl.FP8E4M3:
		return fmt.Sprintf("trtc_e4m3f(%s[%s])", a, e)
	case dsl.Int4:
		return fmt.Sprintf("(float)trtc_i4(%s, %s)", a, e)
	}
	return fmt.Sprintf("(float)%s[%s]", a, e)
}

// quantHelpers are the device functions the quantization kernels share
// (once per NVRTC program):
//   - trtc_e4m3f widens an fp8 e4m3 byte (tensor.FP8E4M3ToFloat32);
//   - trtc_f2e4m3 rounds a float to nearest even on the fp8 grid with
//     satfinite (tensor.Float32ToFP8E4M3, step for step: every step is
//     exact in float64);
//   - trtc_odd rounds a double to float, to odd where inexact
//     (tensor's float64ToFloat32Odd, which makes a second rounding to a
//     narrower type exact);
//   - trtc_i4 reads element e of packed Int4 data (low nibble first);
//   - trtc_qidx maps an element to its scale (quantIndexMeta).
const quantHelpers = `#ifndef TRTC_QUANT_HELPERS
#define TRTC_QUANT_HELPERS
__device__ __forceinline__ float trtc_e4m3f(unsigned char b) {
  float sign = (b & 0x80) ? -1.0f : 1.0f;
  int ex = (b >> 3) & 0xF;
  float man = (float)(b & 7);
  if (ex == 0xF && (b & 7) == 7) return __int_as_float(0x7fc00000);
  if (ex == 0) return __fmul_rn(__fdiv_rn(__fmul_rn(sign, man), 8.0f), 0x1p-6f);
  return __fmul_rn(__fmul_rn(sign, __fadd_rn(1.0f, __fdiv_rn(man, 8.0f))), ldexpf(1.0f, ex - 7));
}
__device__ __forceinline__ unsigned char trtc_f2e4m3(float f) {
  unsigned char sign = (unsigned char)((__float_as_uint(f) >> 24) & 0x80);
  double a = fabs((double)f);
  if (f != f) return sign | 0x7F;
  if (a >= 448.0) return sign | 0x7E;
  if (a < 0x1p-10) return sign;
  int e = ilogb(a);
  if (e < -6) e = -6;
  double u = ldexp(1.0, e - 3);
  double v = __dmul_rn(rint(__ddiv_rn(a, u)), u);
  if (v >= 448.0) return sign | 0x7E;
  if (v < 0x1p-6) return sign | (unsigned char)__ddiv_rn(v, 0x1p-9);
  int ev = ilogb(v);
  unsigned char man = (unsigned char)round(__dmul_rn(__dsub_rn(__ddiv_rn(v, ldexp(1.0, ev)), 1.0), 8.0));
  return sign | (unsigned char)((ev + 7) << 3) | man;
}
__device__ __forceinline__ float trtc_odd(double v) {
  float f = __double2float_rn(v);
  if ((double)f == v || v != v || isinf(f)) return f;
  unsigned b = __float_as_uint(f);
  if ((b & 1u) == 0u) {
    if (fabs((double)f) > fabs(v)) b--; else b++;
  }
  return __uint_as_float(b);
}
__device__ __forceinline__ int trtc_i4(const unsigned char* a, i64 e) {
  unsigned b = a[e >> 1];
  if (e & 1) b >>= 4;
  return ((int)(signed char)(unsigned char)(b << 4)) >> 4;
}
// q: [mode (0 per-tensor, 1 per-channel, 2 block), rank, inner, count,
// dims (rank), block dims (rank), scale strides (rank)].
__device__ __forceinline__ i64 trtc_qidx(const i64* q, i64 e) {
  if (q[0] == 0) return 0;
  if (q[0] == 1) return e / q[2] % q[3];
  int r = (int)q[1];
  const i64* d = q + 4;
  const i64* bs = d + r;
  const i64* ss = bs + r;
  i64 off = 0;
  for (int k = r - 1; k >= 0; --k) { i64 c = e % d[k]; e /= d[k]; off += c / bs[k] * ss[k]; }
  return off;
}
#endif
`

// quantScaleCheck is the scan of the scales by block 0: the lowest
// element that is not > 0 records a fault with its float32 bits. load
// reads scale element j as a float.
func quantScaleCheck(load string) string {
	return fmt.Sprintf(`  if (blockIdx.x == 0) {
    __shared__ int bad;
    for (i64 base = 0; base < ns; base += blockDim.x) {
      if (threadIdx.x == 0) bad = 0x7fffffff;
      __syncthreads();
      i64 j = base + threadIdx.x;
      if (j < ns && !(%[1]s > 0.0f)) atomicMin(&bad, (int)threadIdx.x);
      __syncthreads();
      int b = bad;
      __syncthreads();
      if (b != 0x7fffffff) {
        if ((int)threadIdx.x == b) trtc_fault(fault, j, (i64)__float_as_uint(%[1]s));
        break;
      }
    }
  }
`, load)
}

func quantizeKernel(name string, l dsl.Layer) (string, bool) {
	xt, st, zt := l.Input(0).Type(), l.Input(1).Type(), l.Output(0).Type()
	xc, ok1 := typeOf(xt)
	sc, ok2 := typeOf(st)
	out := quantStore(zt)
	if !ok1 || !ok2 || !isFloat(xt) || !isFloat(st) || out == "" {
		return "", false
	}
	zp := l.NbInputs() > 2 && l.Input(2) != nil
	var b strings.Builder
	b.WriteString(quantHelpers)
	fmt.Fprintf(&b, `extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ x, const %s* __restrict__ scale`, name, out, xc.store, sc.store)
	if zp {
		fmt.Fprintf(&b, ", const %s* __restrict__ zp", quantStore(zt))
	}
	b.WriteString(") {\n  i64 ns = m[0], N = m[1];\n  const i64* q = m + 2;\n")
	b.WriteString(quantScaleCheck(sc.loadf("scale[j]")))
	z := "0.0"
	if zp {
		z = "(double)" + quantLoad(zt, "zp", "si")
	}
	fmt.Fprintf(&b, `  auto one = [&](i64 e) -> int {
    i64 si = trtc_qidx(q, e);
    float xv = %s;
    float s = %s;
    double z = %s;
`, xc.loadf("x[e]"), sc.loadf("scale[si]"), z)
	if zt == dsl.FP8E4M3 {
		// x86 keeps a NaN operand's sign through the division and the
		// addition, where the GPU makes a positive NaN: the CPU
		// engine's NaN keeps the data's sign; a NaN zero point (a
		// positive float64 NaN there) gives 0x7F.
		b.WriteString(`    float r = xv != xv ? xv : __fdiv_rn(xv, s);
    if (r != r) return trtc_f2e4m3(r);
    if (z != z) return 0x7F;
    return trtc_f2e4m3(trtc_odd(__dadd_rn((double)r, z)));
  };
`)
	} else {
		lo, hi := "-128.0", "127.0"
		if zt == dsl.Int4 {
			lo, hi = "-8.0", "7.0"
		}
		fmt.Fprintf(&b, `    float r = __fdiv_rn(xv, s);
    if (r != r) return 0;
    double v = __dadd_rn(rint((double)r), z);
    return (int)fmax(%s, fmin(%s, v));
  };
`, lo, hi)
	}
	b.WriteString("  for (i64 u = (i64)blockIdx.x * blockDim.x + threadIdx.x; u < n; u += (i64)gridDim.x * blockDim.x) {\n")
	if zt == dsl.Int4 {
		b.WriteString(`    int lo = one(2 * u), hi = 2 * u + 1 < N ? one(2 * u + 1) : 0;
    out[u] = (unsigned char)((lo & 0xF) | ((hi & 0xF) << 4));
`)
	} else {
		fmt.Fprintf(&b, "    out[u] = (%s)one(u);\n", out)
	}
	b.WriteString("  }\n}\n")
	return b.String(), true
}

func dequantizeKernel(name string, l dsl.Layer) (string, bool) {
	qt, st, ft := l.Input(0).Type(), l.Input(1).Type(), l.Output(0).Type()
	fc, ok1 := typeOf(ft)
	sc, ok2 := typeOf(st)
	in := quantStore(qt)
	if !ok1 || !ok2 || !isFloat(ft) || !isFloat(st) || in == "" {
		return "", false
	}
	zp := l.NbInputs() > 2 && l.Input(2) != nil
	var b strings.Builder
	b.WriteString(quantHelpers)
	fmt.Fprintf(&b, `extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ x, const %s* __restrict__ scale`, name, fc.store, in, sc.store)
	if zp {
		fmt.Fprintf(&b, ", const %s* __restrict__ zp", in)
	}
	b.WriteString(") {\n  i64 ns = m[0];\n  const i64* q = m + 2;\n")
	b.WriteString(quantScaleCheck(sc.loadf("scale[j]")))
	fmt.Fprintf(&b, `  for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (i64)gridDim.x * blockDim.x) {
    i64 si = trtc_qidx(q, e);
    float v = %s;
`, quantLoad(qt, "x", "e"))
	if zp {
		fmt.Fprintf(&b, "    v = __fsub_rn(v, %s);\n", quantLoad(qt, "zp", "si"))
	}
	fmt.Fprintf(&b, "    float y = __fmul_rn(v, %s);\n    out[e] = %s;\n  }\n}\n", sc.loadf("scale[si]"), fc.savef("y"))
	return b.String(), true
}

// quantPlan is the metadata and launch of a Quantize or Dequantize:
// packed says the output packs two elements a byte (Int4), one thread
// each byte.
func quantPlan(l dsl.Layer, v shapeValues, axis int, block dsl.Dims, packed bool) ([]int64, launch, error) {
	shape, sshape := v.dims[l.Input(0)], v.dims[l.Input(1)]
	idx, err := quantIndexMeta(l, shape, sshape, axis, block)
	if err != nil {
		return nil, launch{}, err
	}
	n := volume(shape)
	m := append([]int64{volume(sshape), n}, idx...)
	units := n
	if packed {
		units = (n + 1) / 2
	}
	return m, launch{n: units, grid: grid(units)}, nil
}

// quantIndexMeta is the CPU engine's quantScaleIndex as metadata for
// trtc_qidx, with its shape errors: per-tensor (mode 0), per-channel
// along axis (mode 1: inner is the axis' stride, count its dim) or per
// block (mode 2: block dims and the scale's strides).
func quantIndexMeta(l dsl.Layer, shape, sshape []int64, axis int, block dsl.Dims) ([]int64, error) {
	r := len(shape)
	switch {
	case volume(sshape) == 1 && len(sshape) <= 1:
		return []int64{0, int64(r), 1, 1}, nil
	case len(sshape) == 1 && (r != 1 || len(block) == 0):
		if axis < 0 || axis >= r {
			return nil, diag.Errorf(diag.InvalidNode, "%s: a per-channel scale of %d values needs an axis in [0, %d), got %d", dsl.LayerString(l), sshape[0], r, axis)
		}
		if shape[axis] != sshape[0] {
			return nil, diag.Errorf(diag.ShapeMismatch, "%s: the per-channel scale has %d values but the data has %d along axis %d", dsl.LayerString(l), sshape[0], shape[axis], axis)
		}
		return []int64{1, int64(r), max(contiguous(shape)[axis], 1), max(shape[axis], 1)}, nil
	}
	bs, err := cpueng.QuantBlockShape(l, shape, sshape, block)
	if err != nil {
		return nil, err
	}
	m := []int64{2, int64(r), 1, 1}
	m = append(m, shape...)
	m = append(m, bs...)
	return append(m, contiguous(sshape)...), nil
}

// DynamicQuantize: one warp per scale block finds the block's amax (NaN
// when any element is NaN, as the CPU engine's scan ends), writes the
// block's scale amax/qmax/g (float32, or rounded to fp8), and quantizes
// the block's elements by stored scale·g with Quantize's rounding
// (zeros where that is 0). The double-quantization scale g (input 1)
// must be positive and finite: otherwise the kernel records a fault,
// the CPU engine's OutOfRange error, and writes nothing.
//
// Meta: [rank, elements a block, block dims (rank), scale dims (rank),
// data strides (rank)].
func init() {
	registerFamily(dsl.LayerDynamicQuantize, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			d := l.(*dsl.DynamicQuantizeLayer)
			if !isFloat(l.Input(0).Type()) || !dynQuantTypes(d) {
				return false, fmt.Sprintf("no dynamic quantization kernel for %v to %v with %v scales", l.Input(0).Type(), d.ToType(), d.ScaleType())
			}
			return true, ""
		},
		source: dynQuantKernel,
		plan:   dynQuantPlan,
		fault: func(l dsl.Layer, _ shapeValues, _, val int64) error {
			return fmt.Errorf("the double-quantization scale must be positive and finite, got %g", math.Float32frombits(uint32(val)))
		},
	})
}

func dynQuantTypes(d *dsl.DynamicQuantizeLayer) bool {
	return (d.ToType() == dsl.Int8 || d.ToType() == dsl.FP8E4M3) && (d.ScaleType() == dsl.Float32 || d.ScaleType() == dsl.FP8E4M3)
}

func dynQuantKernel(name string, l dsl.Layer) (string, bool) {
	d := l.(*dsl.DynamicQuantizeLayer)
	xc, ok := typeOf(l.Input(0).Type())
	if !ok || !isFloat(l.Input(0).Type()) || !dynQuantTypes(d) {
		return "", false
	}
	var gc ctype
	hasG := l.NbInputs() > 1 && l.Input(1) != nil
	if hasG {
		if gc, ok = typeOf(l.Input(1).Type()); !ok || !isFloat(l.Input(1).Type()) {
			return "", false
		}
	}
	out, qmax := "signed char", "127.0f"
	if d.ToType() == dsl.FP8E4M3 {
		out, qmax = "unsigned char", "448.0f"
	}
	st := "float"
	if d.ScaleType() == dsl.FP8E4M3 {
		st = "unsigned char"
	}
	var b strings.Builder
	b.WriteString(quantHelpers)
	fmt.Fprintf(&b, `extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, %s* __restrict__ scales, const %s* __restrict__ x`, name, out, st, xc.store)
	if hasG {
		fmt.Fprintf(&b, ", const %s* __restrict__ gin", gc.store)
	}
	b.WriteString(`) {
  int r = (int)m[0];
  i64 E = m[1];
  const i64* bs = m + 2;
  const i64* sd = bs + r;
  const i64* st = sd + r;
  float g = 1.0f;
`)
	if hasG {
		fmt.Fprintf(&b, `  g = %s;
  if (!(g > 0.0f) || isinf(g)) {
    if (blockIdx.x == 0 && threadIdx.x == 0) trtc_fault(fault, 0, (i64)__float_as_uint(g));
    return;
  }
`, gc.loadf("gin[0]"))
	}
	fmt.Fprintf(&b, `  int lane = threadIdx.x & 31;
  i64 warp = ((i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5, warps = ((i64)gridDim.x * blockDim.x) >> 5;
  for (i64 blk = warp; blk < n; blk += warps) {
    i64 rem = blk, base = 0;
    for (int k = r - 1; k >= 0; --k) { i64 c = rem %% sd[k]; rem /= sd[k]; base += c * bs[k] * st[k]; }
    float amax = 0.0f;
    for (i64 e = lane; e < E; e += 32) {
      i64 off = base, er = e;
      for (int k = r - 1; k >= 0; --k) { off += (er %% bs[k]) * st[k]; er /= bs[k]; }
      float a = fabsf(%[1]s);
      if (a > amax || a != a) amax = a;
    }
    for (int o = 16; o > 0; o >>= 1) {
      float t = __shfl_xor_sync(0xffffffffu, amax, o);
      if (t != t || (amax == amax && t > amax)) amax = t;
    }
    float sc = __fdiv_rn(__fdiv_rn(amax, %[2]s), g);
`, xc.loadf("x[off]"), qmax)
	if st == "float" {
		b.WriteString("    if (lane == 0) scales[blk] = sc;\n    float eff = __fmul_rn(sc, g);\n")
	} else {
		b.WriteString("    unsigned char sb = trtc_f2e4m3(sc);\n    if (lane == 0) scales[blk] = sb;\n    float eff = __fmul_rn(trtc_e4m3f(sb), g);\n")
	}
	fmt.Fprintf(&b, `    for (i64 e = lane; e < E; e += 32) {
      i64 off = base, er = e;
      for (int k = r - 1; k >= 0; --k) { off += (er %% bs[k]) * st[k]; er /= bs[k]; }
      if (eff == 0.0f) { out[off] = 0; continue; }
      float v = %s;
`, xc.loadf("x[off]"))
	if d.ToType() == dsl.FP8E4M3 {
		b.WriteString(`      float q = v != v ? v : __fdiv_rn(v, eff);
      out[off] = q != q ? trtc_f2e4m3(q) : trtc_f2e4m3(trtc_odd(__dadd_rn((double)q, 0.0)));
`)
	} else {
		b.WriteString(`      float q = __fdiv_rn(v, eff);
      out[off] = q != q ? (signed char)0 : (signed char)(int)fmax(-128.0, fmin(127.0, rint((double)q)));
`)
	}
	b.WriteString("    }\n  }\n}\n")
	return b.String(), true
}

func dynQuantPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	d := l.(*dsl.DynamicQuantizeLayer)
	shape := v.dims[l.Input(0)]
	block := d.EffectiveBlockShape()
	if len(block) != len(shape) {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: the block shape %v does not fit the input dims %v", dsl.LayerString(l), block, shape)
	}
	r := len(shape)
	bs, sd := make([]int64, r), make([]int64, r)
	for i, b := range block {
		switch {
		case b == -1:
			bs[i], sd[i] = max(shape[i], 1), 1
		case b <= 0:
			return nil, launch{}, diag.Errorf(diag.InvalidNode, "%s: block shape %v: dimension %d is %d", dsl.LayerString(l), block, i, b)
		case shape[i]%b != 0:
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: dimension %d is %d, not a multiple of the block size %d", dsl.LayerString(l), i, shape[i], b)
		default:
			bs[i], sd[i] = b, shape[i]/b
		}
	}
	if got := v.dims[l.Output(1)]; fmt.Sprint(got) != fmt.Sprint(sd) {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: scales of dims %v, planned %v", dsl.LayerString(l), got, sd)
	}
	e := volume(bs)
	if volume(shape) == 0 {
		e = 0 // the scales are all 0
	}
	m := []int64{int64(r), e}
	m = append(m, bs...)
	m = append(m, sd...)
	m = append(m, contiguous(shape)...)
	blocks := volume(sd)
	return m, rowsPerWarp(blocks), nil
}
