package nn

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// MultiHeadAttentionParams are the projections of a self-attention block
// (PyTorch's nn.MultiheadAttention with batch_first and separate q/k/v
// weights): each W is [E, E], each B is [E] or empty.
type MultiHeadAttentionParams struct {
	Heads          int64
	Wq, Wk, Wv, Wo dsl.Weights
	Bq, Bk, Bv, Bo dsl.Weights
	Causal         bool // mask future positions (decoder self-attention)
}

// MultiHeadAttention adds self-attention over x ([B, S, E]):
// softmax(Q·Kᵀ/√D)·V per head with D = E/Heads, then the output projection.
// Q, K and V are Linear projections split into heads by a Shuffle
// ([B,S,E] → [B,H,S,D]); the heads go through one Attention layer
// (TensorRT IAttention, which does not scale, so Q is scaled by 1/√D
// first) and are merged back by a Shuffle.
func MultiHeadAttention(net *dsl.Network, x *dsl.Tensor, p MultiHeadAttentionParams) *dsl.Tensor {
	if x.Rank() != 3 {
		return net.Errorf(diag.ShapeMismatch, "nn.MultiHeadAttention: input %q must be [batch, seq, embed], got %v", x.Name(), x.Dims())
	}
	ws := weightShape(p.Wq)
	if len(ws) != 2 || ws[0] != ws[1] {
		return net.Errorf(diag.InvalidArgument, "nn.MultiHeadAttention: Wq must be [E, E], got %v", ws)
	}
	e := ws[0]
	if p.Heads <= 0 || e%p.Heads != 0 {
		return net.Errorf(diag.InvalidArgument, "nn.MultiHeadAttention: embed dim %d is not divisible by %d heads", e, p.Heads)
	}
	d := e / p.Heads
	split := func(t *dsl.Tensor) *dsl.Tensor { // [B,S,E] -> [B,H,S,D]
		s := net.AddShuffle(t)
		s.SetReshapeDimensions(dsl.Dims{0, 0, p.Heads, d})
		s.SetSecondTranspose(dsl.Permutation{0, 2, 1, 3})
		return s.Output(0)
	}
	q := Linear(net, x, p.Wq, p.Bq)
	scale := constant(net, float32Weights([]int64{1}, []float32{float32(1 / math.Sqrt(float64(d)))}), x.Type(), dsl.Dims{1, 1, 1})
	q = net.AddElementWise(q, scale, dsl.ElementWiseProd).Output(0)
	k := Linear(net, x, p.Wk, p.Bk)
	v := Linear(net, x, p.Wv, p.Bv)
	att := net.AddAttention(split(q), split(k), split(v), dsl.AttentionNormSoftmax, p.Causal).Output(0)
	merge := net.AddShuffle(att) // [B,H,S,D] -> [B,S,E]
	merge.SetFirstTranspose(dsl.Permutation{0, 2, 1, 3})
	merge.SetReshapeDimensions(dsl.Dims{0, 0, e})
	return Linear(net, merge.Output(0), p.Wo, p.Bo)
}
