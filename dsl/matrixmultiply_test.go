package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestMatrixMultiplyDims(t *testing.T) {
	cases := []struct {
		a, b   Dims
		oa, ob MatrixOperation
		want   Dims
	}{
		{Dims{2, 3}, Dims{3, 4}, MatrixOpNone, MatrixOpNone, Dims{2, 4}},
		{Dims{3, 2}, Dims{4, 3}, MatrixOpTranspose, MatrixOpTranspose, Dims{2, 4}},
		{Dims{5, 1, 2, 3}, Dims{1, 6, 3, 4}, MatrixOpNone, MatrixOpNone, Dims{5, 6, 2, 4}},
		{Dims{2, 3}, Dims{3}, MatrixOpNone, MatrixOpVector, Dims{2}},
		{Dims{3}, Dims{3, 4}, MatrixOpVector, MatrixOpNone, Dims{4}},
		{Dims{3}, Dims{3}, MatrixOpVector, MatrixOpVector, Dims{}},
		{Dims{7, 3}, Dims{7, 3}, MatrixOpVector, MatrixOpVector, Dims{7}},
		{Dims{-1, 2, 3}, Dims{1, 3, -1}, MatrixOpNone, MatrixOpNone, Dims{-1, 2, -1}},
		{Dims{2, -1}, Dims{5, 4}, MatrixOpNone, MatrixOpNone, Dims{2, 4}},
		{Dims{0, 2, 3}, Dims{1, 3, 4}, MatrixOpNone, MatrixOpNone, Dims{0, 2, 4}},
	}
	for _, c := range cases {
		n := NewNetwork()
		a := n.AddInput("a", Float16, c.a)
		b := n.AddInput("b", Float16, c.b)
		l := n.AddMatrixMultiply(a, c.oa, b, c.ob)
		if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(c.want) {
			t.Errorf("%v %v × %v %v: dims %v, want %v", c.a, c.oa, c.b, c.ob, got, c.want)
		}
		if l.Output(0).Type() != Float16 {
			t.Errorf("type %v, want Float16", l.Output(0).Type())
		}
	}
}

func TestMatrixMultiplySetOperation(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{3, 2})
	b := n.AddInput("b", Float32, Dims{3, 4})
	l := n.AddMatrixMultiply(a, MatrixOpNone, b, MatrixOpNone)
	l.SetOperation(0, MatrixOpTranspose)
	if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(Dims{2, 4}) {
		t.Fatalf("dims %v", got)
	}
	if l.Operation(0) != MatrixOpTranspose || l.Operation(1) != MatrixOpNone {
		t.Fatal("getters disagree with setters")
	}
}

func TestMatrixMultiplyErrors(t *testing.T) {
	cases := []struct {
		name   string
		ta, tb DataType
		a, b   Dims
		oa, ob MatrixOperation
		code   diag.Code
		frag   string
	}{
		{"mismatched K", Float32, Float32, Dims{2, 3}, Dims{4, 5}, MatrixOpNone, MatrixOpNone, diag.ShapeMismatch, "K=3, op1(input 1) has K=4"},
		{"batch count", Float32, Float32, Dims{2, 2, 3}, Dims{3, 4}, MatrixOpNone, MatrixOpNone, diag.ShapeMismatch, "same number"},
		{"batch broadcast", Float32, Float32, Dims{2, 2, 3}, Dims{5, 3, 4}, MatrixOpNone, MatrixOpNone, diag.ShapeMismatch, "batch dims do not broadcast"},
		{"rank for matrix", Float32, Float32, Dims{3}, Dims{3, 4}, MatrixOpNone, MatrixOpNone, diag.ShapeMismatch, "needs rank >= 2"},
		{"rank for vector", Float32, Float32, Dims{}, Dims{3, 4}, MatrixOpVector, MatrixOpNone, diag.ShapeMismatch, "needs rank >= 1"},
		{"int32", Int32, Int32, Dims{2, 3}, Dims{3, 4}, MatrixOpNone, MatrixOpNone, diag.TypeMismatch, "rejects Int32"},
		{"mixed types", Float32, Float16, Dims{2, 3}, Dims{3, 4}, MatrixOpNone, MatrixOpNone, diag.TypeMismatch, "different types"},
		{"unknown op", Float32, Float32, Dims{2, 3}, Dims{3, 4}, MatrixOperation(7), MatrixOpNone, diag.InvalidNode, "unknown matrix operation 7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			a := n.AddInput("a", c.ta, c.a)
			b := n.AddInput("b", c.tb, c.b)
			n.MarkOutput(n.AddMatrixMultiply(a, c.oa, b, c.ob).Output(0))
			linalgWantErr(t, n, c.code, c.frag)
		})
	}
}
