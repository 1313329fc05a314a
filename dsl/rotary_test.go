package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestRotaryInfer(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", BFloat16, Dims{-1, 4, -1, 64})
	c := n.AddInput("c", Float32, Dims{-1, -1, 32})
	l := n.AddRotaryEmbedding(x, c, c, false, 0)
	attnWantOK(t, l.Output(0), BFloat16, Dims{-1, 4, -1, 64})
	c2 := n.AddInput("c2", Float32, Dims{4096, 16})
	l2 := n.AddRotaryEmbedding(x, c2, c2, true, 32)
	l2.SetInput(3, n.AddInput("ids", Int32, Dims{-1, -1}))
	attnWantOK(t, l2.Output(0), BFloat16, Dims{-1, 4, -1, 64})
	if !l2.Interleaved() || l2.RotaryEmbeddingDim() != 32 {
		t.Fatal("getters")
	}
}

func TestRotaryErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(n *Network)
		code  diag.Code
		frag  string
	}{
		{"int input", func(n *Network) {
			c := n.AddInput("c", Float32, Dims{1, 2, 2})
			n.AddRotaryEmbedding(n.AddInput("x", Int32, Dims{1, 1, 2, 4}), c, c, false, 0)
		}, diag.TypeMismatch, "must be float32"},
		{"rank", func(n *Network) {
			c := n.AddInput("c", Float32, Dims{1, 2, 2})
			n.AddRotaryEmbedding(n.AddInput("x", Float32, Dims{2, 4}), c, c, false, 0)
		}, diag.ShapeMismatch, "want [batch, heads"},
		{"cache types", func(n *Network) {
			n.AddRotaryEmbedding(n.AddInput("x", Float32, Dims{1, 1, 2, 4}), n.AddInput("c", Float32, Dims{1, 2, 2}), n.AddInput("s", Float16, Dims{1, 2, 2}), false, 0)
		}, diag.TypeMismatch, "share one float type"},
		{"odd rotary dim", func(n *Network) {
			c := n.AddInput("c", Float32, Dims{1, 2, 2})
			n.AddRotaryEmbedding(n.AddInput("x", Float32, Dims{1, 1, 2, 4}), c, c, false, 3)
		}, diag.InvalidNode, "must be even"},
		{"rotary dim too large", func(n *Network) {
			c := n.AddInput("c", Float32, Dims{1, 2, 4})
			n.AddRotaryEmbedding(n.AddInput("x", Float32, Dims{1, 1, 2, 4}), c, c, false, 8)
		}, diag.InvalidNode, "exceeds the head size 4"},
		{"odd head", func(n *Network) {
			c := n.AddInput("c", Float32, Dims{1, 2, 2})
			n.AddRotaryEmbedding(n.AddInput("x", Float32, Dims{1, 1, 2, 5}), c, c, false, 0)
		}, diag.ShapeMismatch, "needs it even"},
		{"cache dims", func(n *Network) {
			c := n.AddInput("c", Float32, Dims{1, 2, 3})
			n.AddRotaryEmbedding(n.AddInput("x", Float32, Dims{1, 1, 2, 4}), c, c, false, 0)
		}, diag.ShapeMismatch, "want 1x2x2"},
		{"ids type", func(n *Network) {
			c := n.AddInput("c", Float32, Dims{8, 2})
			l := n.AddRotaryEmbedding(n.AddInput("x", Float32, Dims{1, 1, 2, 4}), c, c, false, 0)
			l.SetInput(3, n.AddInput("ids", Float32, Dims{1, 2}))
		}, diag.TypeMismatch, "int32 or int64"},
		{"ids dims", func(n *Network) {
			c := n.AddInput("c", Float32, Dims{8, 2})
			l := n.AddRotaryEmbedding(n.AddInput("x", Float32, Dims{1, 1, 2, 4}), c, c, false, 0)
			l.SetInput(3, n.AddInput("ids", Int32, Dims{1, 3}))
		}, diag.ShapeMismatch, "want [batch, sequence]"},
		{"cache rank with ids", func(n *Network) {
			c := n.AddInput("c", Float32, Dims{1, 2, 2})
			l := n.AddRotaryEmbedding(n.AddInput("x", Float32, Dims{1, 1, 2, 4}), c, c, false, 0)
			l.SetInput(3, n.AddInput("ids", Int32, Dims{1, 2}))
		}, diag.ShapeMismatch, "want -1x2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			c.build(n)
			attnWantErr(t, n, c.code, c.frag)
		})
	}
}
