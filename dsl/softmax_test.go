package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestSoftMaxDefaultAxis(t *testing.T) {
	for rank, want := range map[int]uint32{1: 1, 2: 1, 3: 1, 4: 2, 5: 4} {
		n := NewNetwork()
		d := make(Dims, rank)
		for i := range d {
			d[i] = 2
		}
		l := n.AddSoftMax(n.AddInput("x", Float32, d))
		linalgWantOK(t, n, l.Output(0))
		if l.Axes() != want {
			t.Errorf("rank %d: default axes %b, want %b", rank, l.Axes(), want)
		}
	}
}

func TestSoftMaxDims(t *testing.T) {
	n := NewNetwork()
	l := n.AddSoftMax(n.AddInput("x", Float16, Dims{-1, 5, 7}))
	l.SetAxes(1 << 2)
	if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(Dims{-1, 5, 7}) || l.Output(0).Type() != Float16 {
		t.Fatalf("%v %v", got, l.Output(0).Type())
	}
	if l.Axes() != 4 {
		t.Fatalf("axes %b", l.Axes())
	}
}

func TestSoftMaxErrors(t *testing.T) {
	cases := []struct {
		name string
		dt   DataType
		dims Dims
		axes uint32
		code diag.Code
		frag string
	}{
		{"two axes", Float32, Dims{2, 3}, 0b11, diag.InvalidNode, "exactly one axis"},
		{"no axis", Float32, Dims{2, 3}, 0, diag.InvalidNode, "exactly one axis"},
		{"beyond rank", Float32, Dims{2, 3}, 0b100, diag.InvalidNode, "sets bit 2, but the input has rank 2"},
		{"int32", Int32, Dims{2, 3}, 1, diag.TypeMismatch, "SoftMax takes"},
		{"scalar", Float32, Dims{}, 1, diag.ShapeMismatch, "needs rank >= 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			l := n.AddSoftMax(n.AddInput("x", c.dt, c.dims))
			l.SetAxes(c.axes)
			n.MarkOutput(l.Output(0))
			linalgWantErr(t, n, c.code, c.frag)
		})
	}
}
