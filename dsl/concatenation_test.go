package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestConcatenationInference(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{2, 3, 4, 5})
	b := n.AddInput("b", Float32, Dims{2, 7, 4, 5})
	l := n.AddConcatenation([]*Tensor{a, b})
	if l.Axis() != 1 {
		t.Errorf("default axis %d, want 1 (rank-3)", l.Axis())
	}
	datamoveWantDims(t, l, 0, Dims{2, 10, 4, 5})

	c := n.AddInput("c", Float32, Dims{3})
	d := n.AddInput("d", Float32, Dims{-1})
	l = n.AddConcatenation([]*Tensor{c, c})
	datamoveWantDims(t, l, 0, Dims{6})
	l = n.AddConcatenation([]*Tensor{c, d})
	datamoveWantDims(t, l, 0, Dims{-1})

	// Negative axis, and a dynamic dim off the axis resolved by another input.
	e := n.AddInput("e", Float16, Dims{-1, 2})
	f := n.AddInput("f", Float16, Dims{4, 3})
	l = n.AddConcatenation([]*Tensor{e, f})
	l.SetAxis(-1)
	datamoveWantDims(t, l, 0, Dims{4, 5})
}

func TestConcatenationValues(t *testing.T) {
	n := NewNetwork()
	a := datamoveKnownInput(n, "a", Int64, 2, 3)
	b := datamoveKnownInput(n, "b", Int64, -1)
	l := n.AddConcatenation([]*Tensor{a, b})
	v, ok := l.Output(0).KnownValues()
	if !ok || len(v) != 3 || v[0] != 2 || v[1] != 3 || v[2] != -1 {
		t.Errorf("values %v %v, want [2 3 -1]", v, ok)
	}
	c := n.AddInput("c", Int64, Dims{1})
	if _, ok := n.AddConcatenation([]*Tensor{a, c}).Output(0).KnownValues(); ok {
		t.Error("values known though input c is not")
	}
}

func TestConcatenationErrors(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{2, 3})
	b := n.AddInput("b", Float32, Dims{4, 3})
	i := n.AddInput("i", Int32, Dims{2, 3})
	r := n.AddInput("r", Float32, Dims{2, 3, 1})
	s := n.AddInput("s", Float32, Dims{})

	datamoveWantErr(t, n.AddConcatenation(nil), diag.InvalidArgument, "at least one input")
	l := n.AddConcatenation([]*Tensor{a, b})
	l.SetAxis(1)
	datamoveWantErr(t, l, diag.ShapeMismatch, "dimension 0 = 4")
	datamoveWantErr(t, n.AddConcatenation([]*Tensor{a, i}), diag.TypeMismatch, "one type")
	datamoveWantErr(t, n.AddConcatenation([]*Tensor{a, r}), diag.ShapeMismatch, "rank 3")
	datamoveWantErr(t, n.AddConcatenation([]*Tensor{s, s}), diag.ShapeMismatch, "scalar")
	l = n.AddConcatenation([]*Tensor{a, a})
	l.SetAxis(2)
	datamoveWantErr(t, l, diag.InvalidNode, "axis 2 is out of range")
	l = n.AddConcatenation([]*Tensor{a, a})
	l.SetAxis(-3)
	datamoveWantErr(t, l, diag.InvalidNode, "axis -3 is out of range")
}
