package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

func TestConstantInfer(t *testing.T) {
	n := NewNetwork()
	c := n.AddConstant(Dims{2, 2}, Int32Weights(1, 2, 3, 4))
	o := c.Output(0)
	if o.Type() != Int32 || !o.Dims().Equal(Dims{2, 2}) {
		t.Fatalf("%v", o)
	}
	if v, ok := o.KnownValues(); !ok || len(v) != 4 || v[3] != 4 {
		t.Fatalf("known values %v %v", v, ok)
	}
	f := n.AddConstant(Dims{1}, Float32Weights(1)).Output(0)
	if _, ok := f.KnownValues(); ok {
		t.Fatal("float constants have no known values")
	}
	big := make([]int64, 65)
	if _, ok := n.AddConstant(Dims{65}, Int64Weights(big...)).Output(0).KnownValues(); ok {
		t.Fatal("values recorded for a 65-element constant")
	}
	c.SetDimensions(Dims{4})
	c.SetWeights(Int64Weights(5, 6, 7, 8))
	if o.Type() != Int64 || !o.Dims().Equal(Dims{4}) {
		t.Fatalf("after setters: %v", o)
	}
	if !c.Dimensions().Equal(Dims{4}) || c.Weights().Count() != 4 {
		t.Fatal("getters")
	}
}

func TestConstantErrors(t *testing.T) {
	b, _ := tensor.FromBool([]int64{1}, []bool{true})
	u := tensor.New(tensor.UInt8, 1)
	cases := []struct {
		dims Dims
		w    Weights
		code diag.Code
		text string
	}{
		{Dims{-1, 2}, Float32Weights(1, 2), diag.ShapeMismatch, "must be static"},
		{Dims{3}, Float32Weights(1, 2), diag.ShapeMismatch, "hold 3 values but the weights have 2"},
		{Dims{1}, NewWeights(b), diag.TypeMismatch, "of type bool are not supported"},
		{Dims{1}, NewWeights(u), diag.TypeMismatch, "of type uint8 are not supported"},
		{Dims{1 << 40, 1 << 40}, Float32Weights(1), diag.ShapeMismatch, "overflows"},
	}
	for _, c := range cases {
		n := NewNetwork()
		n.MarkOutput(n.AddConstant(c.dims, c.w).Output(0))
		pointwiseWantErr(t, n, c.code, c.text)
	}
}

func TestShapeInfer(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float32, Dims{2, 3, 4})
	s := n.AddShape(x).Output(0)
	if s.Type() != Int64 || !s.Dims().Equal(Dims{3}) {
		t.Fatalf("%v", s)
	}
	if v, ok := s.KnownValues(); !ok || len(v) != 3 || v[0] != 2 || v[2] != 4 {
		t.Fatalf("values %v %v", v, ok)
	}
	x.SetDims(Dims{-1, 3, 4})
	if _, ok := s.KnownValues(); ok {
		t.Fatal("values known for dynamic dims")
	}
	if v, ok := n.AddShape(n.AddInput("s", Int8, Dims{})).Output(0).KnownValues(); !ok || len(v) != 0 {
		t.Fatalf("shape of a scalar: %v %v", v, ok)
	}
}

func TestCastAndIdentityInfer(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float16, Dims{-1, 2})
	c := n.AddCast(x, Int32)
	if o := c.Output(0); o.Type() != Int32 || !o.Dims().Equal(Dims{-1, 2}) {
		t.Fatalf("%v", o)
	}
	c.SetToType(Bool)
	if c.Output(0).Type() != Bool || c.ToType() != Bool {
		t.Fatal("SetToType")
	}
	id := n.AddIdentity(x).Output(0)
	if id.Type() != Float16 || !id.Dims().Equal(Dims{-1, 2}) {
		t.Fatalf("%v", id)
	}
	k := n.AddConstant(Dims{2}, Int64Weights(3, 1<<40)).Output(0)
	if v, ok := n.AddCast(k, Int32).Output(0).KnownValues(); !ok || v[0] != 3 || v[1] != 1<<31-1 {
		t.Fatalf("cast of known values: %v %v", v, ok)
	}
	if v, ok := n.AddIdentity(k).Output(0).KnownValues(); !ok || v[1] != 1<<40 {
		t.Fatalf("identity of known values: %v %v", v, ok)
	}
}

func TestCastErrors(t *testing.T) {
	cases := []struct {
		from, to DataType
		code     diag.Code
		text     string
	}{
		{FP8E4M3, Float32, diag.TypeMismatch, "fp8e4m3 is a quantized storage type"},
		{Float32, Int4, diag.TypeMismatch, "int4 is a quantized storage type"},
		{Float32, DataType(42), diag.InvalidNode, "not a data type"},
	}
	for _, c := range cases {
		n := NewNetwork()
		n.MarkOutput(n.AddCast(n.AddInput("x", c.from, Dims{2}), c.to).Output(0))
		pointwiseWantErr(t, n, c.code, c.text)
	}
}
