package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestSqueezeUnsqueezeInference(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float32, Dims{1, -1, 1, 4})
	datamoveWantDims(t, n.AddSqueeze(x, datamoveKnownInput(n, "a0", Int64, 0, -2)), 0, Dims{-1, 4})
	// A dynamic dim may be 1 at run time.
	datamoveWantDims(t, n.AddSqueeze(x, datamoveKnownInput(n, "a1", Int32, 1)), 0, Dims{1, 1, 4})
	datamoveWantDims(t, n.AddUnsqueeze(x, datamoveKnownInput(n, "a2", Int64, 0, -1)), 0, Dims{1, 1, -1, 1, 4, 1})
	datamoveWantDims(t, n.AddUnsqueeze(x, datamoveKnownInput(n, "a3", Int64, 2)), 0, Dims{1, -1, 1, 1, 4})
	s := n.AddInput("s", Int64, Dims{})
	datamoveWantDims(t, n.AddUnsqueeze(s, datamoveKnownInput(n, "a4", Int64, 0)), 0, Dims{1})

	// Known values pass through.
	v := datamoveKnownInput(n, "v", Int64, 9)
	u := n.AddUnsqueeze(v, datamoveKnownInput(n, "a5", Int64, 0))
	sq := n.AddSqueeze(u.Output(0), datamoveKnownInput(n, "a6", Int64, 1))
	if got, ok := sq.Output(0).KnownValues(); !ok || len(got) != 1 || got[0] != 9 {
		t.Errorf("values %v %v, want [9]", got, ok)
	}
}

func TestSqueezeUnsqueezeErrors(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float32, Dims{1, 3})
	datamoveWantErr(t, n.AddSqueeze(x, datamoveKnownInput(n, "a0", Int64, 1)), diag.ShapeMismatch, "its dim is 3, not 1")
	datamoveWantErr(t, n.AddSqueeze(x, datamoveKnownInput(n, "a1", Int64, 2)), diag.InvalidNode, "axis 2 is out of range")
	datamoveWantErr(t, n.AddSqueeze(x, datamoveKnownInput(n, "a2", Int64, 0, -2)), diag.InvalidNode, "listed twice")
	datamoveWantErr(t, n.AddSqueeze(x, n.AddInput("u", Int64, Dims{1})), diag.InvalidNode, "known at build time")
	datamoveWantErr(t, n.AddUnsqueeze(x, n.AddInput("u2", Int64, Dims{1})), diag.InvalidNode, "known at build time")
	datamoveWantErr(t, n.AddUnsqueeze(x, datamoveKnownInput(n, "a3", Int64, 3)), diag.InvalidNode, "axis 3 is out of range for rank 3")
	datamoveWantErr(t, n.AddUnsqueeze(x, n.AddInput("f", Float32, Dims{1})), diag.TypeMismatch, "Int32 or Int64")
}
