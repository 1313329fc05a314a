package cuda

import (
	"fmt"

	"github.com/trtc/trtc/dsl"
)

// ctype is how a data type is stored in a generated kernel and computed
// with: floats compute in float (half and bfloat16 are widened on load and
// rounded to nearest even on store, as the CPU engine does), integers in
// 64 bits (stores wrap, as on the CPU), bools as 0/1.
type ctype struct {
	store   string // the C type of one element in memory
	compute string // the C type arithmetic happens in
	load    string // format: converts the stored value %s to compute
	save    string // format: converts the computed value %s to store
}

var ctypes = map[dsl.DataType]ctype{
	dsl.Float32:  {"float", "float", "%s", "%s"},
	dsl.Float16:  {"unsigned short", "float", "h2f(%s)", "f2h(%s)"},
	dsl.BFloat16: {"unsigned short", "float", "b2f(%s)", "f2b(%s)"},
	dsl.Int32:    {"int", "i64", "(i64)(%s)", "(int)(%s)"},
	dsl.Int64:    {"i64", "i64", "%s", "%s"},
	dsl.Int8:     {"signed char", "i64", "(i64)(%s)", "(signed char)(%s)"},
	dsl.UInt8:    {"unsigned char", "i64", "(i64)(%s)", "(unsigned char)(%s)"},
	dsl.Bool:     {"unsigned char", "i64", "(i64)((%s) != 0)", "(unsigned char)((%s) != 0)"},
}

func typeOf(dt dsl.DataType) (ctype, bool) {
	c, ok := ctypes[dt]
	return c, ok
}

func isFloat(dt dsl.DataType) bool {
	return dt == dsl.Float32 || dt == dsl.Float16 || dt == dsl.BFloat16
}

func (c ctype) loadf(x string) string { return fmt.Sprintf(c.load, x) }
func (c ctype) savef(x string) string { return fmt.Sprintf(c.save, x) }

// prelude starts every generated module: no CUDA headers are needed (the
// engine compiles where only the driver and NVRTC are installed), so half
// and bfloat16 conversions are written out: PTX cvt for half, bit
// arithmetic with round-to-nearest-even for bfloat16.
const prelude = `typedef long long i64;
__device__ __forceinline__ float h2f(unsigned short h) { float f; asm("{cvt.f32.f16 %0, %1;}" : "=f"(f) : "h"(h)); return f; }
__device__ __forceinline__ unsigned short f2h(float f) { unsigned short h; asm("{cvt.rn.f16.f32 %0, %1;}" : "=h"(h) : "f"(f)); return h; }
__device__ __forceinline__ float b2f(unsigned short h) { return __uint_as_float(((unsigned int)h) << 16); }
__device__ __forceinline__ unsigned short f2b(float f) {
  unsigned int u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (unsigned short)(u >> 16);
}
__device__ __forceinline__ i64 f2i(float v, i64 lo, i64 hi) {
  if (v != v) return 0;
  if (v <= (float)lo) return lo;
  if (v >= (float)hi) return hi;
  return (i64)v;
}
__device__ __forceinline__ float rne(float x) { return rintf(x); }
` + faultPrelude + `// offset maps a linear index of an output of rank r (dims d) to the offset
// of an input with strides s (0 where the input broadcasts).
__device__ __forceinline__ i64 offset(i64 i, int r, const i64* d, const i64* s) {
  i64 o = 0;
  for (int k = r - 1; k >= 0; --k) { i64 c = i % d[k]; i /= d[k]; o += c * s[k]; }
  return o;
}
// offset32 is offset for indices and offsets below 2^31: 32-bit division
// is several times cheaper. Strides may be negative (reversed slices).
__device__ __forceinline__ int offset32(unsigned i, int r, const i64* d, const i64* s) {
  int o = 0;
  for (int k = r - 1; k >= 0; --k) { unsigned dk = (unsigned)d[k]; unsigned c = i % dk; i /= dk; o += (int)c * (int)s[k]; }
  return o;
}
__device__ __forceinline__ bool isContiguous(int r, const i64* d, const i64* s) {
  i64 acc = 1; bool c = true;
  for (int k = r - 1; k >= 0; --k) { if (d[k] != 1 && s[k] != acc) c = false; acc *= d[k]; }
  return c;
}
`

// intRange is the saturation range of an integer type for casts.
func intRange(dt dsl.DataType) (lo, hi string) {
	switch dt {
	case dsl.Int32:
		return "-2147483648LL", "2147483647LL"
	case dsl.Int8:
		return "-128LL", "127LL"
	case dsl.UInt8:
		return "0LL", "255LL"
	case dsl.Bool:
		return "0LL", "1LL"
	}
	return "(-9223372036854775807LL - 1)", "9223372036854775807LL"
}
