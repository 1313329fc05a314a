package cuda

import (
	"fmt"

	"github.com/trtc/trtc/internal/cuda"
)

// Wide copies. A copy whose innermost dim is contiguous on both sides
// (most transposes of attention heads, slices and concatenations along
// outer axes) moves 16 bytes per element instead of one element of 1 to 8
// bytes: a quarter of the index arithmetic and of the memory transactions
// for float32, an eighth for half. Whether a copy can be widened depends
// on the shape plan's dims, so the plan keeps both forms, and the run takes
// the wide one only when both addresses are 16-byte aligned (the arena and
// the weights always are; a caller's device buffer may not be).

// wideBytes is the element size of the wide copy kernel.
const wideBytes = 16

// wideCopyName is the wide copy kernel in the fixed module.
const wideCopyName = "trtc_copy16"

// wideCopyKernel moves 16-byte elements; its metadata is copyMeta's.
func wideCopyKernel() string {
	return fmt.Sprintf(`struct alignas(16) trtc_u128 { unsigned long long lo, hi; };
extern "C" __global__ void %s(const i64* __restrict__ meta, i64 n, trtc_u128* __restrict__ out, const trtc_u128* __restrict__ in) {
  int r = (int)meta[0]; const i64* d = meta + 1; const i64* ss = d + r; const i64* ds = ss + r;
  const trtc_u128* src = in + ds[r]; trtc_u128* dst = out + ds[r + 1];
  if (ds[r + 2]) {
    const bool dc = isContiguous(r, d, ds); // every shuffle's destination
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < (unsigned)n; i += gridDim.x * blockDim.x)
      dst[dc ? (int)i : offset32(i, r, d, ds)] = src[offset32(i, r, d, ss)];
  } else {
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x)
      dst[offset(i, r, d, ds)] = src[offset(i, r, d, ss)];
  }
}
`, wideCopyName)
}

// widenCopy rewrites copyMeta's metadata m of elements of elem bytes into
// that of 16-byte elements, and returns the new element count; false when
// the innermost dim is not contiguous on both sides or a dim, stride or
// offset does not divide.
func widenCopy(m []int64, elem int64) ([]int64, int64, bool) {
	if elem <= 0 || elem >= wideBytes || wideBytes%elem != 0 || len(m) < 1 {
		return nil, 0, false
	}
	w := wideBytes / elem
	r := int(m[0])
	if r < 1 || len(m) != 1+3*r+3 {
		return nil, 0, false
	}
	dims, ss, ds := m[1:1+r], m[1+r:1+2*r], m[1+2*r:1+3*r]
	so, do := m[1+3*r], m[2+3*r]
	if ss[r-1] != 1 || ds[r-1] != 1 || dims[r-1]%w != 0 || so%w != 0 || do%w != 0 {
		return nil, 0, false
	}
	for k := 0; k < r-1; k++ {
		if ss[k]%w != 0 || ds[k]%w != 0 {
			return nil, 0, false
		}
	}
	nd := append([]int64(nil), dims...)
	nd[r-1] /= w
	nss, nds := make([]int64, r), make([]int64, r)
	for k := range nss {
		nss[k], nds[k] = ss[k]/w, ds[k]/w
	}
	nss[r-1], nds[r-1] = 1, 1
	out := copyMeta(nd, nss, nds, so/w, do/w)
	return out, volume(nd), true
}

// aligned16 reports whether every address is 16-byte aligned.
func aligned16(ps ...cuda.DevicePtr) bool {
	for _, p := range ps {
		if uint64(p)%wideBytes != 0 {
			return false
		}
	}
	return true
}
