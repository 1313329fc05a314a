package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestOneHotInference(t *testing.T) {
	n := NewNetwork()
	ind := n.AddInput("ind", Int32, Dims{2, -1})
	vals := n.AddInput("vals", Float16, Dims{2})
	depth := n.AddInput("depth", Int64, Dims{})
	known := n.AddInput("known", Int32, Dims{})
	known.values = []int64{10}
	datamoveWantDims(t, n.AddOneHot(ind, vals, depth, -1), 0, Dims{2, -1, -1})
	l := n.AddOneHot(ind, vals, known, 0)
	datamoveWantDims(t, l, 0, Dims{10, 2, -1})
	if l.Output(0).Type() != Float16 {
		t.Errorf("type %v, want values' type float16", l.Output(0).Type())
	}
	datamoveWantDims(t, n.AddOneHot(ind, vals, known, -2), 0, Dims{2, 10, -1})

	bad := n.AddInput("bad", Int32, Dims{})
	bad.values = []int64{0}
	datamoveWantErr(t, n.AddOneHot(ind, vals, bad, 0), diag.InvalidNode, "must be positive")
	datamoveWantErr(t, n.AddOneHot(ind, vals, depth, 3), diag.InvalidNode, "axis 3 is out of range")
	datamoveWantErr(t, n.AddOneHot(ind, vals, depth, -4), diag.InvalidNode, "axis -4 is out of range")
	datamoveWantErr(t, n.AddOneHot(vals, vals, depth, 0), diag.TypeMismatch, "indices")
	datamoveWantErr(t, n.AddOneHot(ind, n.AddInput("v3", Float32, Dims{3}), depth, 0), diag.ShapeMismatch, "2 elements")
	datamoveWantErr(t, n.AddOneHot(ind, vals, n.AddInput("d1", Int32, Dims{1}), 0), diag.ShapeMismatch, "scalar")
	datamoveWantErr(t, n.AddOneHot(ind, vals, n.AddInput("df", Float32, Dims{}), 0), diag.TypeMismatch, "depth")
}

func TestNonZeroInference(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Bool, Dims{3, -1, 4})
	l := n.AddNonZero(x)
	datamoveWantDims(t, l, 0, Dims{3, -1})
	if l.Output(0).Type() != Int64 {
		t.Errorf("type %v, want int64", l.Output(0).Type())
	}
	l.SetIndicesType(Int32)
	if l.Output(0).Type() != Int32 {
		t.Errorf("type %v, want int32", l.Output(0).Type())
	}
	l.SetIndicesType(Float32)
	datamoveWantErr(t, l, diag.TypeMismatch, "Int32 or Int64")
	datamoveWantErr(t, n.AddNonZero(n.AddInput("q", Int4, Dims{2})), diag.TypeMismatch, "storage type")
}
