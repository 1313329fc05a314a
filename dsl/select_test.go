package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestSelectInfer(t *testing.T) {
	n := NewNetwork()
	c := n.AddInput("c", Bool, Dims{1, 1, 5, 9})
	a := n.AddInput("a", Int64, Dims{1, 1, 5, 9})
	b := n.AddInput("b", Int64, Dims{1, 3, 1, -1})
	o := n.AddSelect(c, a, b).Output(0)
	if o.Type() != Int64 || !o.Dims().Equal(Dims{1, 3, 5, 9}) {
		t.Fatalf("%v", o)
	}
	// TensorRT's empty example: 0 against 1 gives 0.
	z := n.AddInput("z", Bool, Dims{1, 1, 0, 9})
	za := n.AddInput("za", Int64, Dims{1, 1, 0, 9})
	if d := n.AddSelect(z, za, b).Output(0).Dims(); !d.Equal(Dims{1, 3, 0, 9}) {
		t.Fatalf("empty: %v", d)
	}
}

func TestSelectErrors(t *testing.T) {
	type dt struct {
		t DataType
		d Dims
	}
	for _, tc := range []struct {
		c, a, b dt
		code    diag.Code
		text    string
	}{
		{dt{Int32, Dims{2, 3}}, dt{Float32, Dims{2, 3}}, dt{Float32, Dims{2, 3}}, diag.TypeMismatch, `condition "c" must be Bool`},
		{dt{Bool, Dims{2, 3}}, dt{Float32, Dims{2, 3}}, dt{Float16, Dims{2, 3}}, diag.TypeMismatch, "different types"},
		{dt{Bool, Dims{2, 3}}, dt{Float32, Dims{2, 3}}, dt{Float32, Dims{3}}, diag.ShapeMismatch, "ranks differ"},
		{dt{Bool, Dims{2, 3}}, dt{Float32, Dims{4, 3}}, dt{Float32, Dims{2, 3}}, diag.ShapeMismatch, "dimension 0: 2 and 4"},
	} {
		n := NewNetwork()
		l := n.AddSelect(n.AddInput("c", tc.c.t, tc.c.d), n.AddInput("a", tc.a.t, tc.a.d), n.AddInput("b", tc.b.t, tc.b.d))
		n.MarkOutput(l.Output(0))
		pointwiseWantErr(t, n, tc.code, tc.text)
	}
}

func TestParametricReLUInferAndErrors(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", BFloat16, Dims{-1, 3, 4})
	s := n.AddInput("s", BFloat16, Dims{1, 3, 1})
	if o := n.AddParametricReLU(x, s).Output(0); o.Type() != BFloat16 || !o.Dims().Equal(Dims{-1, 3, 4}) {
		t.Fatalf("%v", o)
	}
	cases := []struct {
		xt, st DataType
		xd, sd Dims
		code   diag.Code
		text   string
	}{
		{Int32, Int32, Dims{2}, Dims{2}, diag.TypeMismatch, "needs a float input"},
		{Float32, Float16, Dims{2}, Dims{2}, diag.TypeMismatch, "they must match"},
		{Float32, Float32, Dims{2, 3}, Dims{3}, diag.ShapeMismatch, "rank 1 but the input"},
		{Float32, Float32, Dims{2, 3}, Dims{2, 2}, diag.ShapeMismatch, "dimension 1 is 2, want 1 or 3"},
		{Float32, Float32, Dims{1, 3}, Dims{2, 3}, diag.ShapeMismatch, "dimension 0 is 2, want 1 or 1"},
	}
	for _, c := range cases {
		m := NewNetwork()
		m.MarkOutput(m.AddParametricReLU(m.AddInput("x", c.xt, c.xd), m.AddInput("s", c.st, c.sd)).Output(0))
		pointwiseWantErr(t, m, c.code, c.text)
	}
}
