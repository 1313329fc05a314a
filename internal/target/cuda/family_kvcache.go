package cuda

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// KVCacheUpdate (linear mode): one thread per cache element, which copies
// (as bits) the update's element where its position falls in the rows
// the batch entry's write index starts, the cache's element elsewhere.
// Positions outside the cache are never written, so update rows past its
// end are dropped, as TensorRT and the CPU engine drop them. The output
// is a new tensor (the CPU engine's), not the cache updated in place
// (TensorRT's).
//
// Meta: [heads, cache rows, head size, update rows]; n is the cache's
// volume.
func init() {
	registerFamily(dsl.LayerKVCacheUpdate, &kernelFamily{
		source: kvCacheKernel,
		plan:   kvCachePlan,
	})
}

func kvCacheKernel(name string, l dsl.Layer) (string, bool) {
	t, ok1 := bitsOf(l.Input(0).Type())
	ix, ok2 := indexCType(l.Input(2).Type())
	if !ok1 || !ok2 || l.Input(1).Type() != l.Input(0).Type() {
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ cache, const %s* __restrict__ upd, const %s* __restrict__ idx) {
  const i64 H = m[0], maxS = m[1], D = m[2], S = m[3];
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    const i64 e = i %% D, r = i / D, pos = r %% maxS, bh = r / maxS, w = (i64)idx[bh / H];
    out[i] = (w <= pos && w > pos - S) ? upd[(bh * S + (pos - w)) * D + e] : cache[i];
  }
}
`, name, t, t, t, ix), true
}

func kvCachePlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	cs, us := v.dims[l.Input(0)], v.dims[l.Input(1)]
	if len(cs) != 4 || len(us) != 4 || cs[0] != us[0] || cs[1] != us[1] || cs[3] != us[3] {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: the update %v does not fit the cache %v", dsl.LayerString(l), us, cs)
	}
	if k := volume(v.dims[l.Input(2)]); k != cs[0] {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: %d write indices for a batch of %d", dsl.LayerString(l), k, cs[0])
	}
	n := volume(cs)
	return []int64{max(cs[1], 1), max(cs[2], 1), max(cs[3], 1), us[2]}, launch{n: n, grid: grid(n)}, nil
}
