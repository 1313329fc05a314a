package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// KVCacheMode selects how a KVCacheUpdateLayer writes; values are
// TensorRT's nvinfer1::KVCacheMode.
type KVCacheMode int

const (
	KVCacheModeLinear KVCacheMode = iota // contiguous write starting at writeIndices[b]
	numKVCacheModes
)

func (m KVCacheMode) String() string {
	if m == KVCacheModeLinear {
		return "Linear"
	}
	return fmt.Sprintf("KVCacheMode(%d)", int(m))
}

// AllKVCacheModes lists every cache mode.
func AllKVCacheModes() []KVCacheMode { return []KVCacheMode{KVCacheModeLinear} }

// KVCacheUpdateLayer writes new keys or values into a cache (TensorRT
// IKVCacheUpdateLayer). Inputs: 0 the cache [B, H, maxS, D]; 1 the update
// [B, H, S, D] of the cache's type (float32, float16 or bfloat16); 2 the
// write indices [B] (Int32 or Int64). In Linear mode the output is the cache
// with
//
//	output[b, :, writeIndices[b] + s, :] = update[b, :, s, :]  for s in [0, S)
//
// Positions outside [0, maxS) are skipped, as TensorRT ignores out-of-bound
// writes silently. TensorRT updates the cache in place (the output aliases
// input 0); trtc's CPU engine returns a new tensor with the same contents.
// Input 3 (update lengths) belongs to TensorRT's packed update form, which
// trtc does not support.
type KVCacheUpdateLayer struct {
	layerBase
	mode KVCacheMode
}

// AddKVCacheUpdate adds a KV cache update layer.
func (n *Network) AddKVCacheUpdate(cache, update, writeIndices *Tensor, cacheMode KVCacheMode) *KVCacheUpdateLayer {
	l := &KVCacheUpdateLayer{mode: cacheMode}
	n.addLayer(l, LayerKVCacheUpdate, 1, 4, cache, update, writeIndices)
	return l
}

func (l *KVCacheUpdateLayer) CacheMode() KVCacheMode { return l.mode }
func (l *KVCacheUpdateLayer) SetCacheMode(m KVCacheMode) {
	l.mode = m
	l.changed()
}

func (l *KVCacheUpdateLayer) infer(c *inferCtx) {
	cache, upd, idx := c.in(0), c.in(1), c.in(2)
	if l.mode != KVCacheModeLinear {
		c.errorf(diag.InvalidNode, "unknown KV cache mode %d; only Linear (0) exists", int(l.mode))
		return
	}
	if cache.dtype != Float32 && cache.dtype != Float16 && cache.dtype != BFloat16 {
		c.errorf(diag.TypeMismatch, "the cache %q must be float32, float16 or bfloat16 (quantized caches are not supported), got %v", cache.name, cache.dtype)
		return
	}
	if upd.dtype != cache.dtype {
		c.errorf(diag.TypeMismatch, "the update %q is %v but the cache %q is %v; they must match", upd.name, upd.dtype, cache.name, cache.dtype)
		return
	}
	if cache.dims.Rank() != 4 || upd.dims.Rank() != 4 {
		c.errorf(diag.ShapeMismatch, "the cache %q (%v) and update %q (%v) must both be [batch, heads, sequence, headSize]", cache.name, cache.dims, upd.name, upd.dims)
		return
	}
	for _, i := range []int{0, 1, 3} {
		if !attnDimsAgree(cache.dims[i], upd.dims[i]) {
			c.errorf(diag.ShapeMismatch, "the cache %q %v and update %q %v differ in dimension %d", cache.name, cache.dims, upd.name, upd.dims, i)
			return
		}
	}
	if s, m := upd.dims[2], cache.dims[2]; s >= 0 && m >= 0 && s > m {
		c.errorf(diag.ShapeMismatch, "the update %q has %d positions but the cache %q holds only %d", upd.name, s, cache.name, m)
		return
	}
	if idx.dtype != Int32 && idx.dtype != Int64 {
		c.errorf(diag.TypeMismatch, "the write indices %q must be int32 or int64, got %v", idx.name, idx.dtype)
		return
	}
	if idx.dims.Rank() != 1 || !attnDimsAgree(idx.dims[0], cache.dims[0]) {
		c.errorf(diag.ShapeMismatch, "the write indices %q have dims %v; want [batch] = [%d]", idx.name, idx.dims, cache.dims[0])
		return
	}
	if c.has(3) {
		c.errorf(diag.UnsupportedAttr, "update lengths (input 3) belong to TensorRT's packed update form, which trtc does not support")
		return
	}
	c.setOutput(0, cache.dtype, cache.dims)
}
