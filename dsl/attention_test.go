package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestAttentionInfer(t *testing.T) {
	n := NewNetwork()
	q := n.AddInput("q", Float16, Dims{-1, 8, -1, 64})
	k := n.AddInput("k", Float16, Dims{-1, 2, -1, 64})
	a := n.AddAttention(q, k, k, AttentionNormSoftmax, true)
	attnWantOK(t, a.Output(0), Float16, Dims{-1, 8, -1, 64})
	if a.CausalKind() != CausalMaskUpperLeft || !a.Causal() {
		t.Fatalf("causal=true gives %v", a.CausalKind())
	}
	a.SetCausal(false)
	a.SetMask(n.AddInput("m", Bool, Dims{1, 1, -1, -1}))
	a.SetDecomposable(true)
	attnWantOK(t, a.Output(0), Float16, Dims{-1, 8, -1, 64})
	b := n.AddAttentionV2(q, k, k, AttentionNormNone, CausalMaskLowerRight)
	b.SetNormalizationQuantizeScale(n.AddInput("s", Float32, Dims{1}))
	b.SetNormalizationQuantizeToType(FP8E4M3)
	b.SetKeyValueLengths(n.AddInput("len", Int32, Dims{-1}))
	attnWantOK(t, b.Output(0), Float16, Dims{-1, 8, -1, 64})
	if AttentionNormSoftmax.String() != "Softmax" || CausalMaskLowerRight.String() != "LowerRight" || len(AllCausalMaskKinds()) != 3 || len(AllAttentionNormalizationOps()) != 2 {
		t.Fatal("enum names")
	}
}

func TestAttentionErrors(t *testing.T) {
	in := func(n *Network, name string, dt DataType, d Dims) *Tensor { return n.AddInput(name, dt, d) }
	cases := []struct {
		name  string
		build func(n *Network)
		code  diag.Code
		frag  string
	}{
		{"int query", func(n *Network) {
			x := in(n, "q", Int32, Dims{1, 1, 2, 4})
			n.AddAttention(x, x, x, AttentionNormSoftmax, false)
		}, diag.TypeMismatch, "must be float32, float16 or bfloat16"},
		{"packed form", func(n *Network) {
			x := in(n, "q", Float32, Dims{6, 2, 4})
			n.AddAttention(x, x, x, AttentionNormSoftmax, false)
		}, diag.UnsupportedAttr, "packed NHD"},
		{"rank 2", func(n *Network) {
			x := in(n, "q", Float32, Dims{6, 4})
			n.AddAttention(x, x, x, AttentionNormSoftmax, false)
		}, diag.ShapeMismatch, "attention inputs are [batch"},
		{"mixed types", func(n *Network) {
			n.AddAttention(in(n, "q", Float32, Dims{1, 1, 2, 4}), in(n, "k", Float16, Dims{1, 1, 2, 4}), in(n, "v", Float16, Dims{1, 1, 2, 4}), AttentionNormSoftmax, false)
		}, diag.TypeMismatch, "must have one type"},
		{"head dim", func(n *Network) {
			k := in(n, "k", Float32, Dims{1, 1, 2, 8})
			n.AddAttention(in(n, "q", Float32, Dims{1, 1, 2, 4}), k, k, AttentionNormSoftmax, false)
		}, diag.ShapeMismatch, "head dimension 4 but key \"k\" has 8"},
		{"key value differ", func(n *Network) {
			n.AddAttention(in(n, "q", Float32, Dims{1, 1, 2, 4}), in(n, "k", Float32, Dims{1, 1, 3, 4}), in(n, "v", Float32, Dims{1, 1, 5, 4}), AttentionNormSoftmax, false)
		}, diag.ShapeMismatch, "differ in the sequence dimension"},
		{"batch", func(n *Network) {
			k := in(n, "k", Float32, Dims{3, 1, 2, 4})
			n.AddAttention(in(n, "q", Float32, Dims{2, 1, 2, 4}), k, k, AttentionNormSoftmax, false)
		}, diag.ShapeMismatch, "has batch 2"},
		{"gqa heads", func(n *Network) {
			k := in(n, "k", Float32, Dims{1, 2, 2, 4})
			n.AddAttention(in(n, "q", Float32, Dims{1, 3, 2, 4}), k, k, AttentionNormSoftmax, false)
		}, diag.ShapeMismatch, "not a multiple of the 2"},
		{"norm op", func(n *Network) {
			x := in(n, "q", Float32, Dims{1, 1, 2, 4})
			n.AddAttention(x, x, x, AttentionNormalizationOp(7), false)
		}, diag.InvalidNode, "unknown attention normalization"},
		{"causal kind", func(n *Network) {
			x := in(n, "q", Float32, Dims{1, 1, 2, 4})
			n.AddAttentionV2(x, x, x, AttentionNormSoftmax, CausalMaskKind(5))
		}, diag.InvalidNode, "unknown causal mask kind"},
		{"mask and causal", func(n *Network) {
			x := in(n, "q", Float32, Dims{1, 1, 2, 4})
			n.AddAttention(x, x, x, AttentionNormSoftmax, true).SetMask(in(n, "m", Bool, Dims{1, 1, 2, 2}))
		}, diag.InvalidNode, "cannot be combined"},
		{"mask type", func(n *Network) {
			x := in(n, "q", Float16, Dims{1, 1, 2, 4})
			n.AddAttention(x, x, x, AttentionNormSoftmax, false).SetMask(in(n, "m", Float32, Dims{1, 1, 2, 2}))
		}, diag.TypeMismatch, "bool or the query's type float16"},
		{"mask rank", func(n *Network) {
			x := in(n, "q", Float32, Dims{1, 1, 2, 4})
			n.AddAttention(x, x, x, AttentionNormSoftmax, false).SetMask(in(n, "m", Bool, Dims{2, 2}))
		}, diag.ShapeMismatch, "want rank 4"},
		{"mask dims", func(n *Network) {
			x := in(n, "q", Float32, Dims{1, 1, 2, 4})
			n.AddAttention(x, x, x, AttentionNormSoftmax, false).SetMask(in(n, "m", Bool, Dims{1, 1, 2, 3}))
		}, diag.ShapeMismatch, "do not broadcast"},
		{"quant type without scale", func(n *Network) {
			x := in(n, "q", Float32, Dims{1, 1, 2, 4})
			n.AddAttention(x, x, x, AttentionNormSoftmax, false).SetNormalizationQuantizeToType(Int8)
		}, diag.InvalidNode, "needs a scale"},
		{"quant scale without type", func(n *Network) {
			x := in(n, "q", Float32, Dims{1, 1, 2, 4})
			n.AddAttention(x, x, x, AttentionNormSoftmax, false).SetNormalizationQuantizeScale(in(n, "s", Float32, Dims{}))
		}, diag.TypeMismatch, "must be int8 or fp8e4m3"},
		{"quant scale shape", func(n *Network) {
			x := in(n, "q", Float32, Dims{1, 1, 2, 4})
			a := n.AddAttention(x, x, x, AttentionNormSoftmax, false)
			a.SetNormalizationQuantizeScale(in(n, "s", Float32, Dims{2}))
			a.SetNormalizationQuantizeToType(FP8E4M3)
		}, diag.ShapeMismatch, "must hold one value"},
		{"quant scale type", func(n *Network) {
			x := in(n, "q", Float32, Dims{1, 1, 2, 4})
			a := n.AddAttention(x, x, x, AttentionNormSoftmax, false)
			a.SetNormalizationQuantizeScale(in(n, "s", Int8, Dims{}))
			a.SetNormalizationQuantizeToType(FP8E4M3)
		}, diag.TypeMismatch, "scale \"s\" must be float32"},
		{"query lengths", func(n *Network) {
			x := in(n, "q", Float32, Dims{1, 1, 2, 4})
			n.AddAttention(x, x, x, AttentionNormSoftmax, false).SetInput(AttentionInputQueryLengths, in(n, "ql", Int32, Dims{2}))
		}, diag.UnsupportedAttr, "packed query form"},
		{"kv lengths", func(n *Network) {
			x := in(n, "q", Float32, Dims{2, 1, 2, 4})
			n.AddAttention(x, x, x, AttentionNormSoftmax, false).SetKeyValueLengths(in(n, "len", Int64, Dims{2}))
		}, diag.ShapeMismatch, "must be int32 [batch=2]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			c.build(n)
			attnWantErr(t, n, c.code, c.frag)
		})
	}
}
