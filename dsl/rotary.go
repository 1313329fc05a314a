package dsl

import "github.com/trtc/trtc/diag"

// RotaryEmbeddingLayer applies rotary position embedding, RoPE (TensorRT
// IRotaryEmbeddingLayer). Inputs:
//
//	0 the activations [B, H, S, D] (float32, float16 or bfloat16);
//	1 the cosine cache, 2 the sine cache (float, one type for both);
//	3 optional position ids [B, S] (Int32 or Int64), set with SetInput.
//
// Without position ids the caches are [B, S, R/2]; with them they are
// [maxPosition+1, R/2] and row ids[b, s] is used. R is RotaryEmbeddingDim,
// or D when it is 0; it must be even and at most D. The first R elements of
// each head vector are rotated in pairs by (cos, sin) of the pair's index p:
//
//	(x1, x2) -> (x1·cos - x2·sin, x2·cos + x1·sin)
//
// where the pair is (x[2p], x[2p+1]) when interleaved and (x[p], x[p+R/2])
// otherwise (the half-split layout of GPT-NeoX and Llama). Elements R..D-1
// pass through unchanged. The output has the input's type and dims.
type RotaryEmbeddingLayer struct {
	layerBase
	interleaved bool
	rotaryDim   int
}

// AddRotaryEmbedding adds a RoPE layer.
func (n *Network) AddRotaryEmbedding(in, cosCache, sinCache *Tensor, interleaved bool, rotaryEmbeddingDim int) *RotaryEmbeddingLayer {
	l := &RotaryEmbeddingLayer{interleaved: interleaved, rotaryDim: rotaryEmbeddingDim}
	n.addLayer(l, LayerRotaryEmbedding, 1, 4, in, cosCache, sinCache)
	return l
}

func (l *RotaryEmbeddingLayer) Interleaved() bool { return l.interleaved }
func (l *RotaryEmbeddingLayer) SetInterleaved(v bool) {
	l.interleaved = v
	l.changed()
}

// RotaryEmbeddingDim is the number of rotated elements per head (0: all).
func (l *RotaryEmbeddingLayer) RotaryEmbeddingDim() int { return l.rotaryDim }

// SetRotaryEmbeddingDim sets the number of rotated elements per head: even,
// non-negative, at most the head size; 0 means the whole head.
func (l *RotaryEmbeddingLayer) SetRotaryEmbeddingDim(d int) {
	l.rotaryDim = d
	l.changed()
}

func (l *RotaryEmbeddingLayer) infer(c *inferCtx) {
	x, cs, sn := c.in(0), c.in(1), c.in(2)
	if x.dtype != Float32 && x.dtype != Float16 && x.dtype != BFloat16 {
		c.errorf(diag.TypeMismatch, "the input %q must be float32, float16 or bfloat16, got %v", x.name, x.dtype)
		return
	}
	if x.dims.Rank() != 4 {
		c.errorf(diag.ShapeMismatch, "the input %q has dims %v; want [batch, heads, sequence, headSize]", x.name, x.dims)
		return
	}
	if cs.dtype != sn.dtype || (cs.dtype != Float32 && cs.dtype != Float16 && cs.dtype != BFloat16) {
		c.errorf(diag.TypeMismatch, "the cosine cache %q and sine cache %q must share one float type, got %v and %v", cs.name, sn.name, cs.dtype, sn.dtype)
		return
	}
	if l.rotaryDim < 0 || l.rotaryDim%2 != 0 {
		c.errorf(diag.InvalidNode, "the rotary embedding dim must be even and non-negative (0 for the whole head), got %d", l.rotaryDim)
		return
	}
	b, s, d := x.dims[0], x.dims[2], x.dims[3]
	half := int64(Dynamic)
	switch {
	case l.rotaryDim > 0 && d >= 0 && int64(l.rotaryDim) > d:
		c.errorf(diag.InvalidNode, "the rotary embedding dim %d exceeds the head size %d of %q", l.rotaryDim, d, x.name)
		return
	case l.rotaryDim > 0:
		half = int64(l.rotaryDim / 2)
	case d >= 0 && d%2 != 0:
		c.errorf(diag.ShapeMismatch, "the head size of %q is %d; RoPE over the whole head needs it even (or set an even rotary embedding dim)", x.name, d)
		return
	case d >= 0:
		half = d / 2
	}
	want := Dims{b, s, half}
	if ids := c.in(3); ids != nil {
		if ids.dtype != Int32 && ids.dtype != Int64 {
			c.errorf(diag.TypeMismatch, "the position ids %q must be int32 or int64, got %v", ids.name, ids.dtype)
			return
		}
		if ids.dims.Rank() != 2 || !attnDimsAgree(ids.dims[0], b) || !attnDimsAgree(ids.dims[1], s) {
			c.errorf(diag.ShapeMismatch, "the position ids %q have dims %v; want [batch, sequence] = %v", ids.name, ids.dims, Dims{b, s})
			return
		}
		want = Dims{Dynamic, half}
	}
	for _, t := range []*Tensor{cs, sn} {
		ok := t.dims.Rank() == want.Rank()
		for i := 0; ok && i < len(want); i++ {
			ok = attnDimsAgree(t.dims[i], want[i])
		}
		if !ok {
			c.errorf(diag.ShapeMismatch, "the cache %q has dims %v; want %v (-1: any)", t.name, t.dims, want)
			return
		}
	}
	c.setOutput(0, x.dtype, x.dims)
}
