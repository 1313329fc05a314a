package cuda

import (
	"strconv"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
)

// TopK: one block per row (a line along the axis), grid-stride over rows.
// Each element becomes a sort key, an unsigned integer whose ascending
// order is the rank order (largest first for Max, smallest first for
// Min; NaN ranks above every number, all NaNs are equal and -0 equals +0,
// as the CPU engine's comparison says), paired with its position along
// the axis, which breaks ties the way the CPU engine's stable sort does:
// the lower index first. The pairs are bitonic-sorted in static shared
// memory (the slots topkKey gives for the key type); a row longer than
// that keeps its best k in the buffer and merges the rest in chunks of
// slots-k. Where k does not fit below the slots (64-bit keys only), each element counts the
// elements ranked before it, reading the row from global memory. Values
// are copied as their bits.
//
// k is the static k or the value of input 1 (a parameter): plan checks
// it as the CPU engine does.
//
// Meta: [axis length, inner volume (the axis' stride), k]; n is the number
// of rows.
func init() {
	registerFamily(dsl.LayerTopK, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			if _, _, _, ok := topkKey(l.Input(0).Type()); !ok {
				return false, "no TopK kernel for " + l.Input(0).Type().String()
			}
			return true, ""
		},
		source: topkKernel,
		plan:   topkPlan,
		params: []int{1},
	})
}

// topkKey is the C type of dt's sort key and the expression that makes
// it from a stored value v, in ascending-is-larger order (the kernel
// complements it for Max).
func topkKey(dt dsl.DataType) (key, expr string, slots int, ok bool) {
	float := func(load string) string {
		return `float f = ` + load + `;
  unsigned u = f != f ? 0x7fc00000u : f == 0.0f ? 0u : __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);`
	}
	switch dt {
	case dsl.Float32:
		return "unsigned", float("v"), 4096, true
	case dsl.Float16:
		return "unsigned", float("h2f(v)"), 4096, true
	case dsl.BFloat16:
		return "unsigned", float("b2f(v)"), 4096, true
	case dsl.Int32:
		return "unsigned", "return (unsigned)v ^ 0x80000000u;", 4096, true
	case dsl.Int64:
		return "unsigned long long", "return (unsigned long long)v ^ 0x8000000000000000ull;", 2048, true
	}
	return "", "", 0, false
}

const topkTemplate = `__device__ __forceinline__ $KT $NAME_raw($T v) {
  $EXPR
}
__device__ __forceinline__ $KT $NAME_key($T v) {
  $KT k = $NAME_raw(v);
  return $MAX ? ($KT)~k : k;
}
// $NAME_sort sorts the first P (a power of two) pairs of sk/si ascending
// by key, then position.
__device__ void $NAME_sort($KT* sk, unsigned* si, int P) {
  for (int size = 2; size <= P; size <<= 1) {
    for (int stride = size >> 1; stride > 0; stride >>= 1) {
      for (int t = threadIdx.x; t < P / 2; t += blockDim.x) {
        int lo = 2 * t - (t & (stride - 1)), hi = lo + stride;
        $KT a = sk[lo], b = sk[hi];
        unsigned ia = si[lo], ib = si[hi];
        bool hiFirst = b < a || (b == a && ib < ia);
        if (hiFirst == ((lo & size) == 0)) { sk[lo] = b; sk[hi] = a; si[lo] = ib; si[hi] = ia; }
      }
      __syncthreads();
    }
  }
}
extern "C" __global__ void $NAME(const i64* __restrict__ m, i64 n, unsigned long long* fault, $T* __restrict__ vals, $IX* __restrict__ idx, const $T* __restrict__ x) {
  const int S = $SLOTS;
  __shared__ $KT sk[S];
  __shared__ unsigned si[S];
  const i64 N = m[0], inner = m[1], K = m[2];
  for (i64 row = blockIdx.x; row < n; row += gridDim.x) {
    const i64 o = row / inner, in = row % inner;
    const $T* xr = x + o * N * inner + in;
    $T* vr = vals + o * K * inner + in;
    $IX* ir = idx + o * K * inner + in;
    if (K < S) {
      // The best K so far stay in slots [0, K) (sorted); each round fills
      // the slots after them with the next elements and sorts again.
      i64 pos = 0;
      int have = 0;
      while (pos < N) {
        i64 c = N - pos;
        if (c > S - have) c = S - have;
        int filled = have + (int)c, P = 1;
        while (P < filled) P <<= 1;
        for (int t = threadIdx.x; t < P - have; t += blockDim.x) {
          if (t < c) { sk[have + t] = $NAME_key(xr[(pos + t) * inner]); si[have + t] = (unsigned)(pos + t); }
          else { sk[have + t] = ($KT)~($KT)0; si[have + t] = 0xffffffffu; }
        }
        __syncthreads();
        $NAME_sort(sk, si, P);
        pos += c;
        have = (int)K;
      }
      for (int j = threadIdx.x; j < K; j += blockDim.x) {
        unsigned s = si[j];
        vr[j * inner] = xr[(i64)s * inner];
        ir[j * inner] = ($IX)s;
      }
    } else {
      // k does not fit the buffer: each element's rank is the number of
      // elements before it in the order.
      for (i64 j = threadIdx.x; j < N; j += blockDim.x) {
        $KT kj = $NAME_key(xr[j * inner]);
        i64 r = 0;
        for (i64 i = 0; i < N && r < K; ++i) {
          $KT ki = $NAME_key(xr[i * inner]);
          r += (ki < kj || (ki == kj && i < j)) ? 1 : 0;
        }
        if (r < K) { vr[r * inner] = xr[j * inner]; ir[r * inner] = ($IX)j; }
      }
    }
    __syncthreads();
  }
}
`

func topkKernel(name string, l dsl.Layer) (string, bool) {
	tl := l.(*dsl.TopKLayer)
	dt := l.Input(0).Type()
	key, expr, slots, ok := topkKey(dt)
	ct, ok2 := typeOf(dt)
	ix, ok3 := indexCType(tl.IndicesType())
	if !ok || !ok2 || !ok3 || l.Output(1).Type() != tl.IndicesType() {
		return "", false
	}
	maxFirst := "false"
	if tl.Operation() == dsl.TopKMax {
		maxFirst = "true"
	}
	return strings.NewReplacer(
		"$NAME", name, "$KT", key, "$EXPR", expr, "$MAX", maxFirst,
		"$SLOTS", strconv.Itoa(slots), "$IX", ix, "$T", ct.store,
	).Replace(topkTemplate), true
}

func topkPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	tl := l.(*dsl.TopKLayer)
	d := v.dims[l.Input(0)]
	axis, err := dsl.TopKAxis(tl.ReduceAxes(), len(d))
	if err != nil {
		return nil, launch{}, diag.Errorf(diag.InvalidNode, "%s: %v", dsl.LayerString(l), err)
	}
	k := int64(tl.K())
	if kt := l.Input(1); kt != nil {
		kv, ok := v.values[kt]
		if !ok || len(kv) != 1 {
			return nil, launch{}, diag.Errorf(diag.Internal, "%s: the value of k (%q) is not known when the launch is planned", dsl.LayerString(l), kt.Name())
		}
		k = kv[0]
	}
	if k < 1 || k > dsl.TopKMaxK || k > d[axis] {
		return nil, launch{}, diag.Errorf(diag.OutOfRange, "%s: k is %d; it must be in [1, %d] and at most the %d elements of axis %d", dsl.LayerString(l), k, dsl.TopKMaxK, d[axis], axis)
	}
	if d[axis] >= 1<<32-1 {
		return nil, launch{}, diag.Errorf(diag.UnsupportedAttr, "%s: axis %d has %d elements; the TopK kernel takes fewer than 2^32-1", dsl.LayerString(l), axis, d[axis])
	}
	inner := volume(d[axis+1:])
	rows := volume(d[:axis]) * inner
	return []int64{d[axis], inner, k}, launch{n: rows, grid: cuda.Dim3{X: int(min(max(rows, 1), 65535))}}, nil
}
