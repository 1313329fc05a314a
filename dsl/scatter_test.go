package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestScatterInference(t *testing.T) {
	n := NewNetwork()
	data := n.AddInput("data", Float32, Dims{-1, 5, 6})
	ie := n.AddInput("ie", Int32, Dims{2, 5, 3})
	ue := n.AddInput("ue", Float32, Dims{2, -1, 3})
	l := n.AddScatter(data, ie, ue, ScatterElement)
	l.SetAxis(-1)
	datamoveWantDims(t, l, 0, Dims{-1, 5, 6})
	in := n.AddInput("in", Int64, Dims{4, 2})
	un := n.AddInput("un", Float32, Dims{4, 6})
	datamoveWantDims(t, n.AddScatter(data, in, un, ScatterND), 0, Dims{-1, 5, 6})

	f := n.AddInput("f", Float32, Dims{4, 2})
	h := n.AddInput("h", Float16, Dims{4, 6})
	datamoveWantErr(t, n.AddScatter(data, f, un, ScatterND), diag.TypeMismatch, "Int32 or Int64")
	datamoveWantErr(t, n.AddScatter(data, in, h, ScatterND), diag.TypeMismatch, "updates")
	datamoveWantErr(t, n.AddScatter(data, in, ue, ScatterND), diag.ShapeMismatch, "they must be 4x6")
	datamoveWantErr(t, n.AddScatter(data, in, un, ScatterElement), diag.ShapeMismatch, "data's rank")
	datamoveWantErr(t, n.AddScatter(data, ie, un, ScatterElement), diag.ShapeMismatch, "dims of the indices")
	l = n.AddScatter(data, ie, ue, ScatterElement)
	l.SetAxis(3)
	datamoveWantErr(t, l, diag.InvalidNode, "axis 3 is out of range")
	big := n.AddInput("big", Int64, Dims{2, 5, 7})
	datamoveWantErr(t, n.AddScatter(data, big, n.AddInput("ub", Float32, Dims{2, 5, 7}), ScatterElement), diag.ShapeMismatch, "along axis 2")
	datamoveWantErr(t, n.AddScatter(data, n.AddInput("dk", Int64, Dims{2, -1}), un, ScatterND), diag.ShapeMismatch, "known at build time")
	datamoveWantErr(t, n.AddScatter(data, n.AddInput("k4", Int64, Dims{2, 4}), un, ScatterND), diag.ShapeMismatch, "exceed")
	datamoveWantErr(t, n.AddScatter(data, in, un, ScatterMode(5)), diag.InvalidNode, "unknown scatter mode")
}
