package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerKVCacheUpdate, runKVCacheUpdate) }

// runKVCacheUpdate copies the cache and writes the update rows into the
// copy, byte for byte (no conversion: update and cache share one type).
func runKVCacheUpdate(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	cache, upd := in[0], in[1]
	cs, us := cache.Shape(), upd.Shape()
	if cs[0] != us[0] || cs[1] != us[1] || cs[3] != us[3] {
		return nil, layerErr(l, diag.ShapeMismatch, "the update %v does not fit the cache %v", us, cs)
	}
	idx := in[2].Int64Values()
	if int64(len(idx)) != cs[0] {
		return nil, layerErr(l, diag.ShapeMismatch, "%d write indices for a batch of %d", len(idx), cs[0])
	}
	out := cache.Clone()
	dst, src := out.Bytes(), upd.Bytes()
	row := cache.DType().ByteSize(cs[3]) // bytes of one head vector
	for b := int64(0); b < cs[0]; b++ {
		for h := int64(0); h < cs[1]; h++ {
			for s := int64(0); s < us[2]; s++ {
				pos := idx[b] + s
				if pos < 0 || pos >= cs[2] {
					continue // out of bounds: ignored, as in TensorRT
				}
				d := ((b*cs[1]+h)*cs[2] + pos) * row
				u := ((b*us[1]+h)*us[2] + s) * row
				copy(dst[d:d+row], src[u:u+row])
			}
		}
	}
	return []*tensor.Tensor{out}, nil
}
