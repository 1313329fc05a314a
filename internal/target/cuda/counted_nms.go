package cuda

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// NMS on the GPU, per batch item, in the CPU engine's order and
// arithmetic (internal/target/cpu/nms.go):
//
//   - keys: each (box, class) pair j = box*classes + class whose score
//     exceeds the score threshold gets the 64-bit key (descending score,
//     j); the others, and the padding up to a power of two P, sort last.
//     A sort by key is the CPU engine's stable sort by decreasing score.
//   - sort: a bitonic sort of each batch item's P keys (in shared memory
//     while P fits, else one launch per stage).
//   - select: one block per batch item walks the first TopKBoxLimit
//     candidates in order; a candidate whose class is full is skipped,
//     else the block's threads compare it with the selected boxes of its
//     class (IoU in float32 with the CPU engine's operations, rounded
//     alike) and keep it unless one overlaps it beyond the threshold. It
//     writes its count to the scratch header, which the boundary reads.
//   - fill: each batch item's rows (batch, class, box) go after the rows
//     of the items before it; block 0 writes the count output.
//
// Scratch, in 8-byte words: [0] 1 when the IoU threshold is not in
// [0, 1], [1] its bits; [2, 2+B) the boxes kept per batch item; then the
// keys (B*P), the boxes kept per class (B*C), the pairs selected (B*K)
// and their boxes as float4 (2*B*K, 16-byte aligned), K = min(TopK, N*C).
func init() {
	registerCounter(dsl.LayerNMS, &counter{
		lower: func(l dsl.Layer) (bool, string) {
			if _, ok := indexCType(l.Input(2).Type()); !ok {
				return false, "no NMS kernel for maxOutputBoxesPerClass of " + l.Input(2).Type().String()
			}
			return true, ""
		},
		source:  nmsKernels,
		entries: []string{"keys", "sort", "sortsmall", "select", "fill"},
		plan:    nmsPlan,
		count:   nmsCount,
		outputs: func(l dsl.Layer, dims map[*dsl.Tensor][]int64, read []int64) ([]knownTensor, error) {
			if read[0] != 0 {
				return nil, &diag.Error{Code: diag.OutOfRange, Layer: l.Name(), Op: l.Type().String(), Index: l.Index(),
					Msg: fmt.Sprintf("IoU threshold %v is outside [0, 1]", math.Float32frombits(uint32(read[1])))}
			}
			var total int64
			for _, n := range read[2:] {
				total += n
			}
			return []knownTensor{{dims: []int64{total, 3}}, {dims: []int64{}, ints: []int64{total}}}, nil
		},
		fill: func(r countedRun, read []int64) error {
			batch := r.dims[r.l.Input(1)][0]
			return r.c.stream.Launch(r.fn("fill"), dim3(max(batch, 1)), block256, 0, r.meta, r.scratch, r.outs[0], r.outs[1])
		},
	})
}

// nmsShape is what the NMS kernels and scratch layout follow.
type nmsShape struct {
	batch, boxes, classes int64
	pow2                  int64 // keys per batch item: the power of two at or above boxes*classes
	keep                  int64 // K: most pairs a batch item can select
}

// Metadata: [B, N, C, per-class boxes, center-size boxes, P, TopK, K,
// then the word offsets of keys, class counts, selected pairs, boxes].
func nmsPlan(l dsl.Layer, dims map[*dsl.Tensor][]int64) ([]int64, int64, error) {
	n := l.(*dsl.NMSLayer)
	bs, ss := dims[l.Input(0)], dims[l.Input(1)]
	s := nmsShape{batch: ss[0], boxes: ss[1], classes: ss[2]}
	want := []int64{s.batch, s.boxes, 4}
	perClass := len(bs) == 4
	if perClass {
		want = []int64{s.batch, s.boxes, s.classes, 4}
	}
	if !slices.Equal(bs, want) {
		return nil, 0, &diag.Error{Code: diag.ShapeMismatch, Layer: l.Name(), Op: l.Type().String(), Index: l.Index(),
			Msg: fmt.Sprintf("at run time, boxes %v do not match scores %v; want %v", bs, ss, want)}
	}
	pairs := s.boxes * s.classes
	if pairs >= 1<<31 {
		return nil, 0, &diag.Error{Code: diag.OutOfRange, Layer: l.Name(), Op: l.Type().String(), Index: l.Index(),
			Msg: fmt.Sprintf("%d boxes of %d classes are %d pairs; the CUDA target sorts at most 2^31 per batch item", s.boxes, s.classes, pairs)}
	}
	s.pow2 = nmsKeys(pairs)
	s.keep = min(int64(n.TopKBoxLimit()), pairs)
	keys := 2 + s.batch
	counts := keys + s.batch*s.pow2
	sel := counts + s.batch*s.classes
	boxes := (sel + s.batch*s.keep + 1) &^ 1
	words := boxes + 2*s.batch*s.keep
	flag := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	meta := []int64{s.batch, s.boxes, s.classes, flag(perClass), flag(n.BoundingBoxFormat() == dsl.BoxCenterSizes), s.pow2,
		int64(n.TopKBoxLimit()), s.keep, keys, counts, sel, boxes}
	return meta, 8 * words, nil
}

// nmsKeys is how many keys a batch item of pairs (box, class) pairs
// sorts: the power of two at or above pairs.
func nmsKeys(pairs int64) int64 { return int64(1) << bits.Len64(uint64(max(pairs, 1)-1)) }

// nmsSmallSort is the most keys a batch item sorts in one block's shared
// memory.
const nmsSmallSort = 2048

func nmsCount(r countedRun) (int, error) {
	ss := r.dims[r.l.Input(1)]
	batch, pairs := ss[0], ss[1]*ss[2]
	pow2 := nmsKeys(pairs)
	st := r.c.stream
	keys := batch * pow2
	if err := st.Launch(r.fn("keys"), grid(max(keys, batch*ss[2])), block256, 0, r.meta, r.scratch, r.in(1), r.in(4)); err != nil {
		return 0, err
	}
	if batch == 0 {
		return 2, nil
	}
	if pow2 <= nmsSmallSort {
		if err := st.Launch(r.fn("sortsmall"), dim3(batch), block1024, 0, r.meta, r.scratch); err != nil {
			return 0, err
		}
	} else {
		for k := int64(2); k <= pow2; k <<= 1 {
			for j := k >> 1; j > 0; j >>= 1 {
				if err := st.Launch(r.fn("sort"), grid(keys), block256, 0, r.meta, r.scratch, k, j); err != nil {
					return 0, err
				}
			}
		}
	}
	if err := st.Launch(r.fn("select"), dim3(batch), block256, 0, r.meta, r.scratch, r.in(0), r.in(2), r.in(3)); err != nil {
		return 0, err
	}
	return int(2 + batch), nil
}

func nmsKernels(name string, l dsl.Layer) string {
	t, _ := typeOf(l.Input(0).Type())
	maxOut, _ := indexCType(l.Input(2).Type())
	ix, _ := indexCType(l.Output(0).Type())
	return fmt.Sprintf(`typedef unsigned long long %[1]s_u64;
// The CPU engine's min and max (Go's): NaN if either is NaN.
__device__ __forceinline__ float %[1]s_min(float a, float b) { return (a != a || b != b) ? __int_as_float(0x7fc00000) : (a < b ? a : b); }
__device__ __forceinline__ float %[1]s_max(float a, float b) { return (a != a || b != b) ? __int_as_float(0x7fc00000) : (a > b ? a : b); }
__device__ __forceinline__ float4 %[1]s_box(const i64* m, const %[2]s* boxes, i64 b, i64 i, i64 c) {
  const i64 N = m[1], C = m[2];
  const i64 off = m[3] ? ((b * N + i) * C + c) * 4 : (b * N + i) * 4;
  const float v0 = %[3]s, v1 = %[4]s, v2 = %[5]s, v3 = %[6]s;
  if (m[4]) {
    const float hw = __fdiv_rn(v2, 2.0f), hh = __fdiv_rn(v3, 2.0f);
    return make_float4(__fsub_rn(v0, hw), __fsub_rn(v1, hh), __fadd_rn(v0, hw), __fadd_rn(v1, hh));
  }
  return make_float4(%[1]s_min(v0, v2), %[1]s_min(v1, v3), %[1]s_max(v0, v2), %[1]s_max(v1, v3));
}
__device__ __forceinline__ float %[1]s_area(float4 a) { return __fmul_rn(__fsub_rn(a.z, a.x), __fsub_rn(a.w, a.y)); }
__device__ __forceinline__ float %[1]s_iou(float4 a, float4 b) {
  const float w = __fsub_rn(%[1]s_min(a.z, b.z), %[1]s_max(a.x, b.x));
  const float h = __fsub_rn(%[1]s_min(a.w, b.w), %[1]s_max(a.y, b.y));
  if (w <= 0.0f || h <= 0.0f) return 0.0f;
  const float inter = __fmul_rn(w, h);
  const float uni = __fsub_rn(__fadd_rn(%[1]s_area(a), %[1]s_area(b)), inter);
  if (uni <= 0.0f) return 0.0f;
  return __fdiv_rn(inter, uni);
}
extern "C" __global__ void %[1]s_keys(const i64* __restrict__ m, i64* __restrict__ scratch, const %[2]s* __restrict__ scores, const float* __restrict__ scoreTh) {
  const i64 B = m[0], NC = m[1] * m[2], P = m[5];
  %[1]s_u64* keys = (%[1]s_u64*)(scratch + m[8]);
  i64* classes = scratch + m[9];
  const float th = scoreTh ? scoreTh[0] : 0.0f;
  if (blockIdx.x == 0 && threadIdx.x == 0) { scratch[0] = 0; scratch[1] = 0; }
  const i64 stride = (i64)gridDim.x * blockDim.x;
  for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < B * P; e += stride) {
    const i64 b = e / P, j = e %% P;
    %[1]s_u64 key = ~0ull;
    if (j < NC) {
      float s = %[7]s;
      if (s > th) {
        if (s == 0.0f) s = 0.0f; // -0 ties with 0, as in the CPU engine's comparison
        const unsigned u = __float_as_uint(s);
        const unsigned asc = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
        key = ((%[1]s_u64)(~asc) << 32) | (%[1]s_u64)j;
      }
    }
    keys[e] = key;
  }
  for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < B * m[2]; e += stride) classes[e] = 0;
}
__device__ __forceinline__ void %[1]s_order(%[1]s_u64* keys, i64 a, i64 b, bool up) {
  const %[1]s_u64 x = keys[a], y = keys[b];
  if ((x > y) == up) { keys[a] = y; keys[b] = x; }
}
extern "C" __global__ void %[1]s_sort(const i64* __restrict__ m, i64* __restrict__ scratch, i64 k, i64 j) {
  const i64 P = m[5], total = m[0] * P;
  %[1]s_u64* keys = (%[1]s_u64*)(scratch + m[8]);
  for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (i64)gridDim.x * blockDim.x) {
    const i64 i = e %% P, p = i ^ j;
    if (p > i) %[1]s_order(keys, e, e - i + p, (i & k) == 0);
  }
}
extern "C" __global__ void %[1]s_sortsmall(const i64* __restrict__ m, i64* __restrict__ scratch) {
  __shared__ %[1]s_u64 s[%[9]d];
  const i64 P = m[5];
  %[1]s_u64* keys = (%[1]s_u64*)(scratch + m[8]) + (i64)blockIdx.x * P;
  for (i64 i = threadIdx.x; i < P; i += blockDim.x) s[i] = keys[i];
  __syncthreads();
  for (i64 k = 2; k <= P; k <<= 1) {
    for (i64 j = k >> 1; j > 0; j >>= 1) {
      for (i64 i = threadIdx.x; i < P; i += blockDim.x) {
        const i64 p = i ^ j;
        if (p > i) %[1]s_order(s, i, p, (i & k) == 0);
      }
      __syncthreads();
    }
  }
  for (i64 i = threadIdx.x; i < P; i += blockDim.x) keys[i] = s[i];
}
extern "C" __global__ void %[1]s_select(const i64* __restrict__ m, i64* __restrict__ scratch, const %[2]s* __restrict__ boxes, const %[8]s* __restrict__ maxOutPerClass, const float* __restrict__ iouTh) {
  __shared__ i64 candidates;
  const i64 b = blockIdx.x, C = m[2], NC = m[1] * C, P = m[5], K = m[7];
  const int t = threadIdx.x;
  const float th = iouTh ? iouTh[0] : 0.0f;
  if (!(th >= 0.0f && th <= 1.0f)) {
    if (t == 0) {
      if (b == 0) { scratch[0] = 1; scratch[1] = (i64)__float_as_uint(th); }
      scratch[2 + b] = 0;
    }
    return;
  }
  const %[1]s_u64* keys = (const %[1]s_u64*)(scratch + m[8]) + b * P;
  i64* perClass = scratch + m[9] + b * C;
  i64* sel = scratch + m[10] + b * K;
  float4* selBox = (float4*)(scratch + m[11]) + b * K;
  if (t == 0) {
    i64 lo = 0, hi = NC; // the first key that is no candidate
    while (lo < hi) { const i64 mid = (lo + hi) / 2; if (keys[mid] == ~0ull) hi = mid; else lo = mid + 1; }
    candidates = min(lo, m[6]);
  }
  __syncthreads();
  const i64 n = candidates, maxOut = (i64)maxOutPerClass[0];
  i64 kept = 0;
  for (i64 k = 0; k < n; ++k) {
    const i64 j = (i64)(keys[k] & 0xffffffffull), c = j %% C;
    const bool full = perClass[c] >= maxOut;
    int overlaps = 0;
    float4 bx;
    if (!full) {
      bx = %[1]s_box(m, boxes, b, j / C, c);
      for (i64 s = t; s < kept && !overlaps; s += blockDim.x)
        overlaps = sel[s] %% C == c && %[1]s_iou(bx, selBox[s]) > th;
    }
    overlaps = __syncthreads_or(overlaps);
    if (!full && !overlaps) {
      if (t == 0) { sel[kept] = j; selBox[kept] = bx; perClass[c] += 1; }
      ++kept;
    }
    __syncthreads();
  }
  if (t == 0) scratch[2 + b] = kept;
}
extern "C" __global__ void %[1]s_fill(const i64* __restrict__ m, const i64* __restrict__ scratch, %[10]s* __restrict__ out, int* __restrict__ count) {
  __shared__ i64 first;
  const i64 B = m[0], b = blockIdx.x, C = m[2], K = m[7];
  if (B == 0) { if (threadIdx.x == 0) count[0] = 0; return; }
  if (threadIdx.x == 0) {
    i64 at = 0;
    for (i64 k = 0; k < b; ++k) at += scratch[2 + k];
    first = at;
    if (b == B - 1) count[0] = (int)(at + scratch[2 + b]);
  }
  __syncthreads();
  const i64* sel = scratch + m[10] + b * K;
  for (i64 k = threadIdx.x; k < scratch[2 + b]; k += blockDim.x) {
    const i64 j = sel[k], row = (first + k) * 3;
    out[row] = (%[10]s)b; out[row + 1] = (%[10]s)(j %% C); out[row + 2] = (%[10]s)(j / C);
  }
}
`, name, t.store, t.loadf("boxes[off]"), t.loadf("boxes[off + 1]"), t.loadf("boxes[off + 2]"), t.loadf("boxes[off + 3]"),
		t.loadf("scores[b * NC + j]"), maxOut, nmsSmallSort, ix)
}
