package dsl

import (
	"errors"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
)

// pointwiseWantErr checks that the network has an error with code and a
// message containing text.
func pointwiseWantErr(t *testing.T, n *Network, code diag.Code, text string) {
	t.Helper()
	err := n.Err()
	if !errors.Is(err, code) {
		t.Fatalf("want %v, got %v", code, err)
	}
	if err == nil || !strings.Contains(err.Error(), text) {
		t.Fatalf("want %q in the error, got %v", text, err)
	}
}

func TestUnaryInfer(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float16, Dims{-1, 4})
	if d := n.AddUnary(x, UnaryExp).Output(0); d.Type() != Float16 || !d.Dims().Equal(Dims{-1, 4}) {
		t.Fatalf("Exp: %v", d)
	}
	if d := n.AddUnary(x, UnaryIsNaN).Output(0); d.Type() != Bool || !d.Dims().Equal(Dims{-1, 4}) {
		t.Fatalf("IsNaN: %v", d)
	}
	i := n.AddInput("i", Int64, Dims{3})
	if d := n.AddUnary(i, UnarySign).Output(0); d.Type() != Int64 {
		t.Fatalf("Sign on int64: %v", d)
	}
	b := n.AddInput("b", Bool, Dims{})
	if d := n.AddUnary(b, UnaryNot).Output(0); d.Type() != Bool || d.Rank() != 0 {
		t.Fatalf("Not: %v", d)
	}
}

func TestUnaryFoldsKnownValues(t *testing.T) {
	n := NewNetwork()
	c := n.AddConstant(Dims{3}, Int64Weights(2, -5, 0)).Output(0)
	v, ok := n.AddUnary(c, UnaryNeg).Output(0).KnownValues()
	if !ok || len(v) != 3 || v[0] != -2 || v[1] != 5 || v[2] != 0 {
		t.Fatalf("Neg of known values: %v %v", v, ok)
	}
}

func TestUnaryErrors(t *testing.T) {
	cases := []struct {
		dt   DataType
		op   UnaryOperation
		code diag.Code
		text string
	}{
		{Float32, UnaryNot, diag.TypeMismatch, "Not needs a Bool"},
		{Int32, UnaryExp, diag.TypeMismatch, "only Abs, Neg and Sign take integers"},
		{Bool, UnaryAbs, diag.TypeMismatch, "not defined on bool"},
		{FP8E4M3, UnaryExp, diag.TypeMismatch, "not defined on fp8e4m3"},
		{Int8, UnaryAbs, diag.TypeMismatch, "not defined on int8"},
		{Float32, UnaryOperation(25), diag.InvalidNode, "unknown unary operation 25"},
		{Float32, UnaryOperation(-1), diag.InvalidNode, "unknown unary operation -1"},
	}
	for _, c := range cases {
		n := NewNetwork()
		x := n.AddInput("x", c.dt, Dims{2})
		n.MarkOutput(n.AddUnary(x, c.op).Output(0))
		pointwiseWantErr(t, n, c.code, c.text)
	}
}
