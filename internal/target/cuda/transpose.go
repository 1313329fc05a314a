package cuda

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/internal/cuda"
)

// Tiled transposes. A copy whose innermost output dim is strided in the
// input (attention's key transpose, [B, S, H, D] to [B, H, D, S]) reads
// one element per row of the input with each warp access when it runs
// element by element. The tiled kernel moves 32 x 32 tiles through shared
// memory instead: read along the input's contiguous dim, written along
// the output's, both coalesced. The other dims are a batch of tiles.

// transposeName is the tiled transpose for elements of elem bytes.
func transposeName(elem int64) string { return fmt.Sprintf("trtc_transpose%d", elem) }

// transposeKernels are the tiled transposes of 1, 2, 4 and 8 bytes; their
// metadata is transposeMeta's and n is the number of tiles.
func transposeKernels() string {
	var b strings.Builder
	for _, t := range movedElements {
		fmt.Fprintf(&b, `extern "C" __global__ void %[1]s(const i64* __restrict__ meta, i64 n, %[2]s* __restrict__ out, const %[2]s* __restrict__ in) {
  const i64 A = meta[0], B = meta[1], sa = meta[2], db = meta[3];
  const %[2]s* src = in + meta[4]; %[2]s* dst = out + meta[5];
  const int br = (int)meta[6]; const i64* bd = meta + 7; const i64* bss = bd + br; const i64* bds = bss + br;
  const i64 tA = (A + 31) / 32, tB = (B + 31) / 32;
  __shared__ %[2]s tile[32][33];
  const int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;
  for (i64 t = blockIdx.x; t < n; t += gridDim.x) {
    const i64 a0 = (t %% tA) * 32, b0 = ((t / tA) %% tB) * 32, z = t / (tA * tB);
    const %[2]s* s = src + offset(z, br, bd, bss);
    %[2]s* d = dst + offset(z, br, bd, bds);
    for (int k = ty; k < 32; k += 8) { const i64 a = a0 + k, b = b0 + tx; if (a < A && b < B) tile[k][tx] = s[a * sa + b]; }
    __syncthreads();
    for (int k = ty; k < 32; k += 8) { const i64 a = a0 + tx, b = b0 + k; if (a < A && b < B) d[b * db + a] = tile[tx][k]; }
    __syncthreads();
  }
}
`, "trtc_transpose"+t.name, t.ty)
	}
	return b.String()
}

// minTransposeDim is the least extent of both tile dims for which the
// tiled kernel runs: narrower tiles waste most of their threads.
const minTransposeDim = 16

// transposeMeta rewrites copyMeta's metadata m into the tiled kernel's:
// [A, B, sa, db, src offset, dst offset, batch rank, batch dims, batch
// src strides, batch dst strides], where a is the output's contiguous
// dim (src stride sa) and b the input's (dst stride db); and the number
// of tiles. false when the copy is no transpose of two dims of at least
// minTransposeDim.
func transposeMeta(m []int64) ([]int64, int64, bool) {
	if len(m) < 1 {
		return nil, 0, false
	}
	r := int(m[0])
	if r < 2 || len(m) != 1+3*r+3 {
		return nil, 0, false
	}
	dims, ss, ds := m[1:1+r], m[1+r:1+2*r], m[1+2*r:1+3*r]
	a, b := -1, -1
	for k := 0; k < r; k++ {
		if ds[k] == 1 && dims[k] > 1 {
			a = k
		}
		if ss[k] == 1 && dims[k] > 1 {
			b = k
		}
	}
	if a < 0 || b < 0 || a == b || dims[a] < minTransposeDim || dims[b] < minTransposeDim {
		return nil, 0, false
	}
	var bd, bss, bds []int64
	for k := 0; k < r; k++ {
		if k != a && k != b {
			bd, bss, bds = append(bd, dims[k]), append(bss, ss[k]), append(bds, ds[k])
		}
	}
	out := []int64{dims[a], dims[b], ss[a], ds[b], m[1+3*r], m[2+3*r], int64(len(bd))}
	out = append(out, bd...)
	out = append(out, bss...)
	out = append(out, bds...)
	tiles := (dims[a] + 31) / 32 * ((dims[b] + 31) / 32) * volume(bd)
	return out, tiles, true
}

// tiledTranspose is a copy step's tiled launch, or nil.
func tiledTranspose(m []int64, put func([]int64) int64) *launch {
	tm, tiles, ok := transposeMeta(m)
	if !ok {
		return nil
	}
	return &launch{meta: put(tm), n: tiles, grid: cuda.Dim3{X: int(min(tiles, 1<<16))}}
}
