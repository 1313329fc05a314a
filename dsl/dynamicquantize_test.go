package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestDynamicQuantizeInfer(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float16, Dims{-1, 64, 128})
	l := n.AddDynamicQuantize(x, -2, 32, FP8E4M3, FP8E4M3)
	attnWantOK(t, l.Output(0), FP8E4M3, Dims{-1, 64, 128})
	attnWantOK(t, l.Output(1), FP8E4M3, Dims{-1, 2, 128})
	if !l.EffectiveBlockShape().Equal(Dims{1, 32, 1}) {
		t.Fatalf("block %v", l.EffectiveBlockShape())
	}
	v2 := n.AddDynamicQuantizeV2(x, Dims{1, -1, 16}, Int8, Float32)
	v2.SetInput(1, n.AddInput("g", Float32, Dims{}))
	attnWantOK(t, v2.Output(1), Float32, Dims{-1, 1, 8})
	v3 := n.AddDynamicQuantizeV2(x, Dims{2, 1, 1}, Int8, Float32)
	attnWantOK(t, v3.Output(1), Float32, Dims{-1, 64, 128})
}

func TestDynamicQuantizeErrors(t *testing.T) {
	x := func(n *Network, d Dims) *Tensor { return n.AddInput("x", Float32, d) }
	cases := []struct {
		name  string
		build func(n *Network)
		code  diag.Code
		frag  string
	}{
		{"fp4", func(n *Network) { n.AddDynamicQuantize(x(n, Dims{4, 32}), 1, 16, DataType(10), FP8E4M3) }, diag.UnsupportedAttr, "no fp4 data type"},
		{"e8m0", func(n *Network) { n.AddDynamicQuantize(x(n, Dims{4, 32}), 1, 32, FP8E4M3, DataType(11)) }, diag.UnsupportedAttr, "no e8m0 data type"},
		{"int4 out", func(n *Network) { n.AddDynamicQuantizeV2(x(n, Dims{4, 32}), Dims{1, 16}, Int4, Float32) }, diag.TypeMismatch, "output type must be fp8e4m3 or int8"},
		{"half scales", func(n *Network) { n.AddDynamicQuantizeV2(x(n, Dims{4, 32}), Dims{1, 16}, Int8, Float16) }, diag.TypeMismatch, "scale type must be float32 or fp8e4m3"},
		{"int input", func(n *Network) {
			n.AddDynamicQuantizeV2(n.AddInput("x", Int32, Dims{4, 32}), Dims{1, 16}, Int8, Float32)
		}, diag.TypeMismatch, "must be float32, float16 or bfloat16"},
		{"scalar", func(n *Network) { n.AddDynamicQuantizeV2(x(n, Dims{}), Dims{}, Int8, Float32) }, diag.ShapeMismatch, "must not be a scalar"},
		{"deprecated rank 4", func(n *Network) { n.AddDynamicQuantize(x(n, Dims{1, 2, 4, 32}), 3, 16, FP8E4M3, FP8E4M3) }, diag.ShapeMismatch, "supports 2-D and 3-D"},
		{"deprecated axis", func(n *Network) { n.AddDynamicQuantize(x(n, Dims{2, 4, 32}), 0, 16, FP8E4M3, FP8E4M3) }, diag.InvalidNode, "last or second to last"},
		{"deprecated block size", func(n *Network) { n.AddDynamicQuantize(x(n, Dims{4, 32}), 1, 8, FP8E4M3, FP8E4M3) }, diag.InvalidNode, "must be 16 or 32"},
		{"deprecated dynamic axis", func(n *Network) { n.AddDynamicQuantize(x(n, Dims{4, -1}), 1, 16, FP8E4M3, FP8E4M3) }, diag.ShapeMismatch, "must have a static size"},
		{"not divisible", func(n *Network) { n.AddDynamicQuantize(x(n, Dims{4, 40}), 1, 16, FP8E4M3, FP8E4M3) }, diag.ShapeMismatch, "not a multiple of the block size 16"},
		{"block rank", func(n *Network) { n.AddDynamicQuantizeV2(x(n, Dims{4, 32}), Dims{16}, Int8, Float32) }, diag.ShapeMismatch, "must have the input's rank 2"},
		{"block zero", func(n *Network) { n.AddDynamicQuantizeV2(x(n, Dims{4, 32}), Dims{1, 0}, Int8, Float32) }, diag.InvalidNode, "want a positive size or -1"},
		{"double scale shape", func(n *Network) {
			l := n.AddDynamicQuantizeV2(x(n, Dims{4, 32}), Dims{1, 16}, Int8, Float32)
			l.SetInput(1, n.AddInput("g", Float32, Dims{1}))
		}, diag.ShapeMismatch, "must be a float scalar"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			c.build(n)
			attnWantErr(t, n, c.code, c.frag)
		})
	}
}
