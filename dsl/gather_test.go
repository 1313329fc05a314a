package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestGatherInference(t *testing.T) {
	n := NewNetwork()
	data := n.AddInput("data", Float16, Dims{-1, 5, 6})
	i2 := n.AddInput("i2", Int32, Dims{7, 8})
	datamoveWantDims(t, n.AddGather(data, i2, 1), 0, Dims{-1, 7, 8, 6})
	datamoveWantDims(t, n.AddGather(data, i2, -1), 0, Dims{-1, 5, 7, 8})
	scalar := n.AddInput("s", Int64, Dims{})
	datamoveWantDims(t, n.AddGather(data, scalar, 0), 0, Dims{5, 6})

	// One elementwise dim broadcasts.
	ib := n.AddInput("ib", Int64, Dims{1, 3})
	l := n.AddGather(data, ib, 2)
	l.SetNbElementWiseDims(1)
	datamoveWantDims(t, l, 0, Dims{-1, 5, 3})

	ie := n.AddInput("ie", Int64, Dims{2, 5, 2})
	l = n.AddGatherV2(data, ie, GatherElement)
	l.SetGatherAxis(2)
	datamoveWantDims(t, l, 0, Dims{2, 5, 2})

	in := n.AddInput("in", Int64, Dims{4, 2})
	datamoveWantDims(t, n.AddGatherV2(data, in, GatherND), 0, Dims{4, 6})
	ibn := n.AddInput("ibn", Int64, Dims{-1, 4, 1})
	l = n.AddGatherV2(data, ibn, GatherND)
	l.SetNbElementWiseDims(1)
	datamoveWantDims(t, l, 0, Dims{-1, 4, 6})
	if l.Output(0).Type() != Float16 {
		t.Errorf("type %v, want float16", l.Output(0).Type())
	}
}

func TestGatherKnownValues(t *testing.T) {
	n := NewNetwork()
	shape := datamoveKnownInput(n, "shape", Int64, 2, 3, 5)
	idx := datamoveKnownInput(n, "idx", Int32, -1, 0)
	v, ok := n.AddGather(shape, idx, 0).Output(0).KnownValues()
	if !ok || len(v) != 2 || v[0] != 5 || v[1] != 2 {
		t.Errorf("values %v %v, want [5 2]", v, ok)
	}
}

func TestGatherErrors(t *testing.T) {
	n := NewNetwork()
	data := n.AddInput("data", Float32, Dims{4, 5})
	i := n.AddInput("i", Int64, Dims{3})
	f := n.AddInput("f", Float32, Dims{3})
	s := n.AddInput("s", Float32, Dims{})

	datamoveWantErr(t, n.AddGather(data, f, 0), diag.TypeMismatch, "Int32 or Int64")
	datamoveWantErr(t, n.AddGather(s, i, 0), diag.ShapeMismatch, "scalar")
	datamoveWantErr(t, n.AddGather(data, i, 2), diag.InvalidNode, "axis 2 is out of range")
	datamoveWantErr(t, n.AddGather(data, i, -3), diag.InvalidNode, "axis -3 is out of range")
	l := n.AddGather(data, i, 1)
	l.SetNbElementWiseDims(2)
	datamoveWantErr(t, l, diag.InvalidNode, "allows 0 or 1")
	l = n.AddGather(data, i, 1)
	l.SetNbElementWiseDims(1)
	datamoveWantErr(t, l, diag.ShapeMismatch, "cannot broadcast")
	datamoveWantErr(t, n.AddGatherV2(data, i, GatherElement), diag.ShapeMismatch, "data's rank")
	big := n.AddInput("big", Int64, Dims{2, 6})
	datamoveWantErr(t, n.AddGatherV2(data, big, GatherElement), diag.ShapeMismatch, "along axis 1")
	datamoveWantErr(t, n.AddGatherV2(data, big, GatherND), diag.ShapeMismatch, "exceed")
	dynK := n.AddInput("dynk", Int64, Dims{2, -1})
	datamoveWantErr(t, n.AddGatherV2(data, dynK, GatherND), diag.ShapeMismatch, "known at build time")
	b := n.AddInput("b", Int64, Dims{3, 1})
	l = n.AddGatherV2(data, b, GatherND)
	l.SetNbElementWiseDims(1)
	datamoveWantErr(t, l, diag.ShapeMismatch, "batch dim 0 differs")
	datamoveWantErr(t, n.AddGatherV2(data, i, GatherMode(7)), diag.InvalidNode, "unknown gather mode")
}
