package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestReduceDims(t *testing.T) {
	cases := []struct {
		in   Dims
		mask uint32
		keep bool
		want Dims
	}{
		{Dims{2, 3, 4}, 0b010, true, Dims{2, 1, 4}},
		{Dims{2, 3, 4}, 0b010, false, Dims{2, 4}},
		{Dims{2, 3, 4}, 0b111, false, Dims{}},
		{Dims{2, 3, 4}, 0b101, true, Dims{1, 3, 1}},
		{Dims{-1, 3, -1}, 0b100, false, Dims{-1, 3}},
		{Dims{2, 0, 4}, 0b010, false, Dims{2, 4}},
		{Dims{2, 3}, 0, false, Dims{2, 3}},
	}
	for _, c := range cases {
		n := NewNetwork()
		l := n.AddReduce(n.AddInput("x", BFloat16, c.in), ReduceMax, c.mask, c.keep)
		if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(c.want) {
			t.Errorf("%v mask %b keep %v: %v, want %v", c.in, c.mask, c.keep, got, c.want)
		}
	}
}

func TestReduceSetters(t *testing.T) {
	n := NewNetwork()
	l := n.AddReduce(n.AddInput("x", Int64, Dims{2, 3}), ReduceSum, 1, false)
	l.SetReduceAxes(2)
	l.SetKeepDimensions(true)
	l.SetOperation(ReduceMin)
	if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(Dims{2, 1}) || l.Output(0).Type() != Int64 {
		t.Fatalf("%v %v", got, l.Output(0).Type())
	}
	if l.Operation() != ReduceMin || l.ReduceAxes() != 2 || !l.KeepDimensions() {
		t.Fatal("getters")
	}
}

func TestReduceFoldsShapeValues(t *testing.T) {
	// A known shape vector reduced by Prod gives a known element count.
	n := NewNetwork()
	c := n.AddInput("shape", Int64, Dims{3})
	c.values = []int64{2, 3, 4} // as a Constant or Shape layer would record
	l := n.AddReduce(c, ReduceProd, 1, false)
	if v, ok := l.Output(0).KnownValues(); !ok || len(v) != 1 || v[0] != 24 {
		t.Fatalf("values %v %v, want [24]", v, ok)
	}
}

func TestReduceErrors(t *testing.T) {
	cases := []struct {
		name string
		dt   DataType
		op   ReduceOperation
		mask uint32
		code diag.Code
		frag string
	}{
		{"mask beyond rank", Float32, ReduceSum, 0b1000, diag.InvalidNode, "sets bit 3, but the input has rank 3"},
		{"none", Float32, ReduceNone, 1, diag.UnsupportedAttr, "multi-device"},
		{"unknown", Float32, ReduceOperation(9), 1, diag.InvalidNode, "unknown reduce operation 9"},
		{"bool", Bool, ReduceSum, 1, diag.TypeMismatch, "input \"x\" is bool"},
		{"int8", Int8, ReduceSum, 1, diag.TypeMismatch, "Dequantize"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			n.MarkOutput(n.AddReduce(n.AddInput("x", c.dt, Dims{2, 3, 4}), c.op, c.mask, true).Output(0))
			linalgWantErr(t, n, c.code, c.frag)
		})
	}
}
