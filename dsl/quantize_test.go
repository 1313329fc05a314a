package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestQuantizeInfer(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float16, Dims{-1, 4, 6})
	s0 := n.AddInput("s0", Float32, Dims{})
	s1 := n.AddInput("s1", Float32, Dims{4})
	sb := n.AddInput("sb", Float16, Dims{-1, 4, 2})
	attnWantOK(t, n.AddQuantize(x, s0, Int8).Output(0), Int8, Dims{-1, 4, 6})
	q := n.AddQuantize(x, s1, FP8E4M3)
	q.SetAxis(1)
	attnWantOK(t, q.Output(0), FP8E4M3, Dims{-1, 4, 6})
	b := n.AddQuantize(x, sb, Int4)
	attnWantOK(t, b.Output(0), Int4, Dims{-1, 4, 6})
	b.SetBlockShape(Dims{1, 1, 3})
	attnWantOK(t, b.Output(0), Int4, Dims{-1, 4, 6})
	dq := n.AddDequantize(b.Output(0), sb, Float16)
	attnWantOK(t, dq.Output(0), Float16, Dims{-1, 4, 6})
	dq2 := n.AddDequantize(q.Output(0), s1, BFloat16)
	dq2.SetAxis(1)
	attnWantOK(t, dq2.Output(0), BFloat16, Dims{-1, 4, 6})
	// A one-element 1-D scale is per-tensor whatever the axis says.
	one := n.AddDequantize(q.Output(0), n.AddInput("s1x", Float32, Dims{1}), Float32)
	one.SetAxis(2)
	attnWantOK(t, one.Output(0), Float32, Dims{-1, 4, 6})
	if q.Axis() != 1 || !b.BlockShape().Equal(Dims{1, 1, 3}) || b.ToType() != Int4 || dq.ToType() != Float16 {
		t.Fatal("getters")
	}
}

func TestQuantizeErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(n *Network)
		code  diag.Code
		frag  string
	}{
		{"int input", func(n *Network) {
			n.AddQuantize(n.AddInput("x", Int32, Dims{4}), n.AddInput("s", Float32, Dims{}), Int8)
		}, diag.TypeMismatch, "must be float32, float16 or bfloat16"},
		{"uint8 output", func(n *Network) {
			n.AddQuantize(n.AddInput("x", Float32, Dims{4}), n.AddInput("s", Float32, Dims{}), UInt8)
		}, diag.TypeMismatch, "output type must be int8"},
		{"scalar input", func(n *Network) {
			n.AddQuantize(n.AddInput("x", Float32, Dims{}), n.AddInput("s", Float32, Dims{}), Int8)
		}, diag.ShapeMismatch, "must not be a scalar"},
		{"half scale float data", func(n *Network) {
			n.AddQuantize(n.AddInput("x", Float32, Dims{4}), n.AddInput("s", Float16, Dims{}), Int8)
		}, diag.TypeMismatch, "needs float16 data"},
		{"int scale", func(n *Network) {
			n.AddQuantize(n.AddInput("x", Float32, Dims{4}), n.AddInput("s", Int32, Dims{}), Int8)
		}, diag.TypeMismatch, "scale \"s\" must be float32"},
		{"per-channel without axis", func(n *Network) {
			n.AddQuantize(n.AddInput("x", Float32, Dims{3, 4}), n.AddInput("s", Float32, Dims{4}), Int8)
		}, diag.InvalidNode, "needs an axis"},
		{"per-channel wrong size", func(n *Network) {
			q := n.AddQuantize(n.AddInput("x", Float32, Dims{3, 4}), n.AddInput("s", Float32, Dims{4}), Int8)
			q.SetAxis(0)
		}, diag.ShapeMismatch, "has 4 values but the input \"x\" has 3"},
		{"per-channel negative axis", func(n *Network) {
			q := n.AddQuantize(n.AddInput("x", Float32, Dims{3, 4}), n.AddInput("s", Float32, Dims{4}), Int8)
			q.SetAxis(-2) // -1 means per-tensor, so axes do not count from the end
		}, diag.InvalidNode, "axis in [0, 2) set with SetAxis, got -2"},
		{"scale rank", func(n *Network) {
			n.AddQuantize(n.AddInput("x", Float32, Dims{3, 4, 2}), n.AddInput("s", Float32, Dims{3, 4}), FP8E4M3)
		}, diag.ShapeMismatch, "has rank 2"},
		{"int8 blocks", func(n *Network) {
			n.AddQuantize(n.AddInput("x", Float32, Dims{4, 4}), n.AddInput("s", Float32, Dims{2, 4}), Int8)
		}, diag.UnsupportedAttr, "fp8e4m3 and int4 only"},
		{"block not dividing", func(n *Network) {
			n.AddQuantize(n.AddInput("x", Float32, Dims{4, 5}), n.AddInput("s", Float32, Dims{4, 2}), Int4)
		}, diag.ShapeMismatch, "does not divide"},
		{"block shape mismatch", func(n *Network) {
			q := n.AddQuantize(n.AddInput("x", Float32, Dims{4, 6}), n.AddInput("s", Float32, Dims{4, 2}), Int4)
			q.SetBlockShape(Dims{1, 2})
		}, diag.ShapeMismatch, "so want 3"},
		{"block shape zero", func(n *Network) {
			q := n.AddQuantize(n.AddInput("x", Float32, Dims{4, 6}), n.AddInput("s", Float32, Dims{4, 2}), Int4)
			q.SetBlockShape(Dims{1, 0})
		}, diag.InvalidNode, "want a positive size or -1"},
		{"block shape rank", func(n *Network) {
			q := n.AddQuantize(n.AddInput("x", Float32, Dims{4, 6}), n.AddInput("s", Float32, Dims{4, 2}), Int4)
			q.SetBlockShape(Dims{3})
		}, diag.ShapeMismatch, "block shape 3 has rank 1"},
		{"zero point type", func(n *Network) {
			q := n.AddQuantize(n.AddInput("x", Float32, Dims{4}), n.AddInput("s", Float32, Dims{}), Int8)
			q.SetInput(2, n.AddInput("z", Int4, Dims{}))
		}, diag.TypeMismatch, "zero point \"z\" must have the output type int8"},
		{"zero point dims", func(n *Network) {
			q := n.AddQuantize(n.AddInput("x", Float32, Dims{4}), n.AddInput("s", Float32, Dims{}), Int8)
			q.SetInput(2, n.AddInput("z", Int8, Dims{1}))
		}, diag.ShapeMismatch, "must be identical"},
		{"dequantize float input", func(n *Network) {
			n.AddDequantize(n.AddInput("x", Float32, Dims{4}), n.AddInput("s", Float32, Dims{}), Float32)
		}, diag.TypeMismatch, "must be int8, fp8e4m3 or int4"},
		{"dequantize int output", func(n *Network) {
			n.AddDequantize(n.AddInput("x", Int8, Dims{4}), n.AddInput("s", Float32, Dims{}), Int32)
		}, diag.TypeMismatch, "output type must be float32"},
		{"dequantize bf16 scale f32 out", func(n *Network) {
			n.AddDequantize(n.AddInput("x", Int8, Dims{4}), n.AddInput("s", BFloat16, Dims{}), Float32)
		}, diag.TypeMismatch, "needs bfloat16 data"},
		{"dequantize zero point type", func(n *Network) {
			d := n.AddDequantize(n.AddInput("x", Int8, Dims{4}), n.AddInput("s", Float32, Dims{}), Float32)
			d.SetInput(2, n.AddInput("z", FP8E4M3, Dims{}))
		}, diag.TypeMismatch, "input's type int8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			c.build(n)
			attnWantErr(t, n, c.code, c.frag)
		})
	}
}
