package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestRaggedSoftMaxDims(t *testing.T) {
	n := NewNetwork()
	l := n.AddRaggedSoftMax(n.AddInput("x", Float16, Dims{-1, 4, 9}), n.AddInput("b", Int32, Dims{2, -1, 1}))
	if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(Dims{-1, 4, 9}) || l.Output(0).Type() != Float16 {
		t.Fatalf("%v %v", got, l.Output(0).Type())
	}
}

func TestRaggedSoftMaxErrors(t *testing.T) {
	cases := []struct {
		name   string
		xt, bt DataType
		x, b   Dims
		code   diag.Code
		frag   string
	}{
		{"int input", Int32, Int32, Dims{1, 2, 3}, Dims{1, 2, 1}, diag.TypeMismatch, "RaggedSoftMax takes"},
		{"float bounds", Float32, Float32, Dims{1, 2, 3}, Dims{1, 2, 1}, diag.TypeMismatch, "must be Int32"},
		{"rank 2", Float32, Int32, Dims{2, 3}, Dims{2, 1}, diag.ShapeMismatch, "must be rank 3"},
		{"dynamic last", Float32, Int32, Dims{1, 2, 3}, Dims{1, 2, -1}, diag.ShapeMismatch, "last dim must be 1"},
		{"rows differ", Float32, Int32, Dims{1, 2, 3}, Dims{1, 4, 1}, diag.ShapeMismatch, "dim 1 must match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			n.MarkOutput(n.AddRaggedSoftMax(n.AddInput("x", c.xt, c.x), n.AddInput("b", c.bt, c.b)).Output(0))
			linalgWantErr(t, n, c.code, c.frag)
		})
	}
}
