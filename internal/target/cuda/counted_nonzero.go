package cuda

import (
	"fmt"

	"github.com/trtc/trtc/dsl"
)

// NonZero on the GPU. Count: each block counts the non-zero elements of
// its chunk of the input (__syncthreads_count over 256-element tiles)
// into scratch[1 + block]; one block then turns those counts into each
// block's first output column, exclusive, and writes the total to
// scratch[0], which the boundary reads back. Fill: each block walks its
// chunk again in the same tiles, ranks the tile's non-zero elements by
// warp ballots, and writes each one's coordinates as column (its block's
// first column + its rank) of the [rank, count] output: the CPU engine's
// row-major order. A float is non-zero when it compares unequal to 0 (so
// NaN is, -0 is not), as on the CPU engine.
func init() {
	registerCounter(dsl.LayerNonZero, &counter{
		lower: func(l dsl.Layer) (bool, string) {
			if _, ok := typeOf(l.Input(0).Type()); !ok {
				return false, "no NonZero kernel for " + l.Input(0).Type().String()
			}
			if _, ok := indexCType(l.Output(0).Type()); !ok {
				return false, "no NonZero kernel for indices of " + l.Output(0).Type().String()
			}
			return true, ""
		},
		source:  nonZeroKernels,
		entries: []string{"count", "scan", "fill"},
		plan: func(l dsl.Layer, dims map[*dsl.Tensor][]int64) ([]int64, int64, error) {
			in := dims[l.Input(0)]
			blocks, _ := blocksFor(volume(in))
			return append([]int64{int64(len(in))}, in...), 8 * (1 + blocks), nil
		},
		count: func(r countedRun) (int, error) {
			n := volume(r.dims[r.l.Input(0)])
			blocks, chunk := blocksFor(n)
			if err := r.c.stream.Launch(r.fn("count"), dim3(blocks), block256, 0, n, chunk, r.scratch, r.ins[0]); err != nil {
				return 0, err
			}
			return 1, r.c.stream.Launch(r.fn("scan"), dim3(1), block1024, 0, blocks, r.scratch)
		},
		outputs: func(l dsl.Layer, dims map[*dsl.Tensor][]int64, read []int64) ([]knownTensor, error) {
			return []knownTensor{{dims: []int64{int64(len(dims[l.Input(0)])), read[0]}}}, nil
		},
		fill: func(r countedRun, read []int64) error {
			in := r.dims[r.l.Input(0)]
			if read[0] == 0 || len(in) == 0 {
				return nil // no columns, or no rows
			}
			n := volume(in)
			blocks, chunk := blocksFor(n)
			return r.c.stream.Launch(r.fn("fill"), dim3(blocks), block256, 0, r.meta, n, chunk, read[0], r.scratch, r.outs[0], r.ins[0])
		},
	})
}

var block1024 = dim3(1024)

func nonZeroKernels(name string, l dsl.Layer) string {
	t, _ := typeOf(l.Input(0).Type())
	ix, _ := indexCType(l.Output(0).Type())
	nz := fmt.Sprintf("(%s != 0)", t.loadf("in[e]"))
	return fmt.Sprintf(`extern "C" __global__ void %[1]s_count(i64 n, i64 chunk, i64* __restrict__ scratch, const %[2]s* __restrict__ in) {
  const i64 lo = (i64)blockIdx.x * chunk, hi = min(lo + chunk, n);
  i64 total = 0;
  for (i64 base = lo; base < hi; base += 256) {
    const i64 e = base + threadIdx.x;
    total += __syncthreads_count(e < hi && %[3]s);
  }
  if (threadIdx.x == 0) scratch[1 + blockIdx.x] = total;
}
extern "C" __global__ void %[1]s_scan(i64 blocks, i64* __restrict__ scratch) {
  __shared__ i64 s[1024];
  const int t = threadIdx.x;
  const i64 v = t < blocks ? scratch[1 + t] : 0;
  s[t] = v;
  __syncthreads();
  for (int o = 1; o < 1024; o <<= 1) {
    const i64 a = t >= o ? s[t - o] : 0;
    __syncthreads();
    s[t] += a;
    __syncthreads();
  }
  if (t < blocks) scratch[1 + t] = s[t] - v;
  if (t == 1023) scratch[0] = s[1023];
}
extern "C" __global__ void %[1]s_fill(const i64* __restrict__ m, i64 n, i64 chunk, i64 count, const i64* __restrict__ scratch, %[4]s* __restrict__ out, const %[2]s* __restrict__ in) {
  __shared__ int warps[8];
  const int r = (int)m[0];
  const i64* d = m + 1;
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  const i64 lo = (i64)blockIdx.x * chunk, hi = min(lo + chunk, n);
  i64 at = scratch[1 + blockIdx.x];
  for (i64 base = lo; base < hi; base += 256) {
    const i64 e = base + threadIdx.x;
    const bool p = e < hi && %[3]s;
    const unsigned ballot = __ballot_sync(0xffffffffu, p);
    if (lane == 0) warps[w] = __popc(ballot);
    __syncthreads();
    int before = 0, tile = 0;
    for (int k = 0; k < 8; ++k) { const int c = warps[k]; if (k < w) before += c; tile += c; }
    if (p) {
      const i64 col = at + before + __popc(ballot & ((1u << lane) - 1u));
      i64 q = e;
      for (int k = r - 1; k >= 0; --k) { out[(i64)k * count + col] = (%[4]s)(q %% d[k]); q /= d[k]; }
    }
    at += tile;
    __syncthreads();
  }
}
`, name, t.store, nz, ix)
}
