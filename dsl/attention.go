package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// AttentionNormalizationOp is the normalization between the two matrix
// products of an AttentionLayer; values are TensorRT's
// nvinfer1::AttentionNormalizationOp.
type AttentionNormalizationOp int

const (
	AttentionNormNone    AttentionNormalizationOp = iota // scores used as they are
	AttentionNormSoftmax                                 // softmax over the key/value sequence axis
	numAttentionNormOps
)

var attentionNormNames = [...]string{"None", "Softmax"}

func (o AttentionNormalizationOp) String() string {
	if o >= 0 && o < numAttentionNormOps {
		return attentionNormNames[o]
	}
	return fmt.Sprintf("AttentionNormalizationOp(%d)", int(o))
}

// AllAttentionNormalizationOps lists every normalization op.
func AllAttentionNormalizationOps() []AttentionNormalizationOp {
	return []AttentionNormalizationOp{AttentionNormNone, AttentionNormSoftmax}
}

// CausalMaskKind says where the diagonal of an implicit causal mask is
// anchored; values are TensorRT's nvinfer1::CausalMaskKind. Query row i may
// attend to key column j when:
//   - CausalMaskUpperLeft:  j <= i (the diagonal starts at the top-left
//     corner; with Sq < Skv the queries see only the first keys);
//   - CausalMaskLowerRight: j <= i + (Skv - Sq) (the diagonal ends at the
//     bottom-right corner: query i is the token at position Skv-Sq+i, the
//     usual meaning during generation with a KV cache).
//
// Both are the same triangle when Sq == Skv.
type CausalMaskKind int

const (
	CausalMaskNone       CausalMaskKind = iota // no causal masking
	CausalMaskUpperLeft                        // j <= i
	CausalMaskLowerRight                       // j <= i + Skv - Sq
	numCausalMaskKinds
)

var causalMaskNames = [...]string{"None", "UpperLeft", "LowerRight"}

func (k CausalMaskKind) String() string {
	if k >= 0 && k < numCausalMaskKinds {
		return causalMaskNames[k]
	}
	return fmt.Sprintf("CausalMaskKind(%d)", int(k))
}

// AllCausalMaskKinds lists every causal mask kind.
func AllCausalMaskKinds() []CausalMaskKind {
	return []CausalMaskKind{CausalMaskNone, CausalMaskUpperLeft, CausalMaskLowerRight}
}

// Input indices of an AttentionLayer, TensorRT's IAttentionInputLayer order.
const (
	AttentionInputQuery          = 0 // [B, Hq, Sq, D]
	AttentionInputKey            = 1 // [B, Hkv, Skv, D]
	AttentionInputValue          = 2 // [B, Hkv, Skv, D]
	AttentionInputMask           = 3 // optional, bool or additive, broadcast to [B, Hq, Sq, Skv]
	AttentionInputNormQuantScale = 4 // optional scale quantizing the normalized scores
	AttentionInputQueryLengths   = 5 // packed query form only: not supported by trtc
	AttentionInputKVLengths      = 6 // optional Int32 [B]: keys at positions >= length are masked
)

// AttentionLayer is fused scaled dot-product attention (TensorRT
// IAttention, with its IAttentionInputLayer / IAttentionOutputLayer
// boundary layers folded into one trtc layer):
//
//	output = norm(Q·Kᵀ + mask) · V
//
// Q·Kᵀ is not scaled: like TensorRT's IAttention, the layer applies no
// 1/sqrt(D) factor, so callers multiply Q (or K) by it first.
//
// Shapes follow TensorRT's padded BHND form: query [B, Hq, Sq, D], key and
// value [B, Hkv, Skv, D], output like the query. Grouped-query attention is
// allowed: Hq must be a multiple of Hkv, and query head h uses key/value head
// h / (Hq/Hkv). TensorRT's packed NHD form (rank-3 tensors with length
// tensors) is not supported and is rejected with UnsupportedAttr.
//
// Query, key and value are float32, float16 or bfloat16, all the same type.
// The optional mask (input 3, SetMask) is Bool (true = may attend) or the
// query's type (added to the scores); its rank is 4 and it broadcasts to
// [B, Hq, Sq, Skv]. A mask and a causal kind other than None cannot be
// combined, as in TensorRT.
//
// Masked positions (mask false, causal, beyond KeyValueLengths) take no
// part: under softmax they get probability 0, and under None they
// contribute nothing. A softmax row where every key is masked gives an
// all-zero output row rather than NaN.
//
// SetNormalizationQuantizeScale and SetNormalizationQuantizeToType (Int8 or
// FP8E4M3) quantize the normalized scores before the second product: each
// probability p becomes Q(p/scale)·scale, with Quantize's rounding.
type AttentionLayer struct {
	layerBase
	normOp       AttentionNormalizationOp
	causal       CausalMaskKind
	decomposable bool
	normQuantTo  DataType
}

// AddAttention adds an attention layer; causal selects CausalMaskUpperLeft,
// TensorRT's meaning of the deprecated addAttention's causal flag.
func (n *Network) AddAttention(query, key, value *Tensor, normOp AttentionNormalizationOp, causal bool) *AttentionLayer {
	kind := CausalMaskNone
	if causal {
		kind = CausalMaskUpperLeft
	}
	l := &AttentionLayer{normOp: normOp, causal: kind, normQuantTo: Float32}
	n.addLayer(l, LayerAttention, 1, 7, query, key, value)
	return l
}

// AddAttentionV2 adds an attention layer with an explicit causal mask kind
// (TensorRT addAttentionV2).
func (n *Network) AddAttentionV2(query, key, value *Tensor, normOp AttentionNormalizationOp, causalKind CausalMaskKind) *AttentionLayer {
	l := &AttentionLayer{normOp: normOp, causal: causalKind, normQuantTo: Float32}
	n.addLayer(l, LayerAttention, 1, 7, query, key, value)
	return l
}

func (l *AttentionLayer) NormalizationOperation() AttentionNormalizationOp { return l.normOp }
func (l *AttentionLayer) SetNormalizationOperation(op AttentionNormalizationOp) {
	l.normOp = op
	l.changed()
}

// Mask returns the optional mask (input 3), nil when unset.
func (l *AttentionLayer) Mask() *Tensor { return l.Input(AttentionInputMask) }

// SetMask sets the mask (input 3).
func (l *AttentionLayer) SetMask(mask *Tensor) { l.SetInput(AttentionInputMask, mask) }

// Causal reports whether any causal mask applies.
func (l *AttentionLayer) Causal() bool { return l.causal != CausalMaskNone }

// SetCausal selects CausalMaskUpperLeft (true) or CausalMaskNone (false),
// like TensorRT's deprecated setCausal.
func (l *AttentionLayer) SetCausal(causal bool) {
	l.causal = CausalMaskNone
	if causal {
		l.causal = CausalMaskUpperLeft
	}
	l.changed()
}

func (l *AttentionLayer) CausalKind() CausalMaskKind { return l.causal }
func (l *AttentionLayer) SetCausalKind(k CausalMaskKind) {
	l.causal = k
	l.changed()
}

// Decomposable is a hint for TensorRT (may fall back to several kernels); it
// does not change the result.
func (l *AttentionLayer) Decomposable() bool { return l.decomposable }
func (l *AttentionLayer) SetDecomposable(d bool) {
	l.decomposable = d
	l.changed()
}

// NormalizationQuantizeScale returns input 4, nil when unset.
func (l *AttentionLayer) NormalizationQuantizeScale() *Tensor {
	return l.Input(AttentionInputNormQuantScale)
}

// SetNormalizationQuantizeScale sets the scale that quantizes the normalized
// scores (input 4): float32/float16/bfloat16, one value, rank 0 or 1.
func (l *AttentionLayer) SetNormalizationQuantizeScale(t *Tensor) {
	l.SetInput(AttentionInputNormQuantScale, t)
}

// NormalizationQuantizeToType is Float32 (no quantization) unless set.
func (l *AttentionLayer) NormalizationQuantizeToType() DataType { return l.normQuantTo }

// SetNormalizationQuantizeToType sets the type the normalized scores are
// quantized to: Int8 or FP8E4M3.
func (l *AttentionLayer) SetNormalizationQuantizeToType(dt DataType) {
	l.normQuantTo = dt
	l.changed()
}

// KeyValueLengths returns input 6, nil when unset.
func (l *AttentionLayer) KeyValueLengths() *Tensor { return l.Input(AttentionInputKVLengths) }

// SetKeyValueLengths sets per-batch key/value lengths (input 6, Int32 [B]);
// keys at positions >= length[b] are masked. nil clears it.
func (l *AttentionLayer) SetKeyValueLengths(t *Tensor) { l.SetInput(AttentionInputKVLengths, t) }

// attnDimsAgree reports whether two dims may be equal at run time.
func attnDimsAgree(a, b int64) bool { return a < 0 || b < 0 || a == b }

func (l *AttentionLayer) infer(c *inferCtx) {
	q, k, v := c.in(0), c.in(1), c.in(2)
	if l.normOp < 0 || l.normOp >= numAttentionNormOps {
		c.errorf(diag.InvalidNode, "unknown attention normalization operation %d", int(l.normOp))
		return
	}
	if l.causal < 0 || l.causal >= numCausalMaskKinds {
		c.errorf(diag.InvalidNode, "unknown causal mask kind %d", int(l.causal))
		return
	}
	for _, t := range []*Tensor{q, k, v} {
		if t.dtype != Float32 && t.dtype != Float16 && t.dtype != BFloat16 {
			c.errorf(diag.TypeMismatch, "query, key and value must be float32, float16 or bfloat16; %q is %v", t.name, t.dtype)
			return
		}
		if t.dims.Rank() == 3 {
			c.errorf(diag.UnsupportedAttr, "%q has rank 3 (TensorRT's packed NHD form); trtc supports only the padded [batch, heads, sequence, headDim] form", t.name)
			return
		}
		if t.dims.Rank() != 4 {
			c.errorf(diag.ShapeMismatch, "%q has dims %v; attention inputs are [batch, heads, sequence, headDim]", t.name, t.dims)
			return
		}
	}
	if k.dtype != q.dtype || v.dtype != q.dtype {
		c.errorf(diag.TypeMismatch, "query %q, key %q and value %q must have one type, got %v, %v, %v", q.name, k.name, v.name, q.dtype, k.dtype, v.dtype)
		return
	}
	for i, what := range []string{"batch", "heads", "sequence", "head"} {
		if !attnDimsAgree(k.dims[i], v.dims[i]) {
			c.errorf(diag.ShapeMismatch, "key %q %v and value %q %v differ in the %s dimension (%d)", k.name, k.dims, v.name, v.dims, what, i)
			return
		}
	}
	if !attnDimsAgree(q.dims[0], k.dims[0]) {
		c.errorf(diag.ShapeMismatch, "query %q has batch %d but key %q has %d", q.name, q.dims[0], k.name, k.dims[0])
		return
	}
	if !attnDimsAgree(q.dims[3], k.dims[3]) {
		c.errorf(diag.ShapeMismatch, "query %q has head dimension %d but key %q has %d", q.name, q.dims[3], k.name, k.dims[3])
		return
	}
	if hq, hkv := q.dims[1], k.dims[1]; hq >= 0 && hkv >= 0 && (hkv == 0 || hq%hkv != 0) {
		c.errorf(diag.ShapeMismatch, "query %q has %d heads, which is not a multiple of the %d key/value heads of %q", q.name, hq, hkv, k.name)
		return
	}
	if m := c.in(AttentionInputMask); m != nil && !l.checkMask(c, m, q, k) {
		return
	}
	if !l.checkNormQuant(c) {
		return
	}
	if c.has(AttentionInputQueryLengths) {
		c.errorf(diag.UnsupportedAttr, "query lengths (input 5) belong to TensorRT's packed query form, which trtc does not support")
		return
	}
	if kl := c.in(AttentionInputKVLengths); kl != nil {
		if kl.dtype != Int32 || kl.dims.Rank() != 1 || !attnDimsAgree(kl.dims[0], q.dims[0]) {
			c.errorf(diag.ShapeMismatch, "key/value lengths %q must be int32 [batch=%d], got %v %v", kl.name, q.dims[0], kl.dtype, kl.dims)
			return
		}
	}
	c.setOutput(0, q.dtype, q.dims)
}

func (l *AttentionLayer) checkMask(c *inferCtx, m, q, k *Tensor) bool {
	if l.causal != CausalMaskNone {
		c.errorf(diag.InvalidNode, "a mask %q and causal masking (%v) cannot be combined; fold the causal triangle into the mask or drop one", m.name, l.causal)
		return false
	}
	if m.dtype != Bool && m.dtype != q.dtype {
		c.errorf(diag.TypeMismatch, "the mask %q must be bool or the query's type %v (an additive mask), got %v", m.name, q.dtype, m.dtype)
		return false
	}
	want := Dims{q.dims[0], q.dims[1], q.dims[2], k.dims[2]}
	if m.dims.Rank() != 4 {
		c.errorf(diag.ShapeMismatch, "the mask %q has dims %v; want rank 4, broadcastable to [batch, queryHeads, querySeq, kvSeq] = %v", m.name, m.dims, want)
		return false
	}
	for i := range want {
		if d := m.dims[i]; d != 1 && !attnDimsAgree(d, want[i]) {
			c.errorf(diag.ShapeMismatch, "the mask %q dims %v do not broadcast to %v (dimension %d)", m.name, m.dims, want, i)
			return false
		}
	}
	return true
}

func (l *AttentionLayer) checkNormQuant(c *inferCtx) bool {
	s := c.in(AttentionInputNormQuantScale)
	switch {
	case s == nil && l.normQuantTo == Float32:
		return true
	case l.normQuantTo != Int8 && l.normQuantTo != FP8E4M3:
		c.errorf(diag.TypeMismatch, "the normalization quantize type (SetNormalizationQuantizeToType) must be int8 or fp8e4m3 when a scale is set, got %v", l.normQuantTo)
		return false
	case s == nil:
		c.errorf(diag.InvalidNode, "normalization quantization to %v needs a scale: call SetNormalizationQuantizeScale", l.normQuantTo)
		return false
	case s.dtype != Float32 && s.dtype != Float16 && s.dtype != BFloat16:
		c.errorf(diag.TypeMismatch, "the normalization quantize scale %q must be float32, float16 or bfloat16, got %v", s.name, s.dtype)
		return false
	case s.dims.Rank() > 1 || s.dims.Rank() == 1 && s.dims[0] != 1 && s.dims[0] != Dynamic:
		c.errorf(diag.ShapeMismatch, "the normalization quantize scale %q must hold one value (rank 0 or [1]), got %v", s.name, s.dims)
		return false
	}
	return true
}
