package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestReverseSequenceInference(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float32, Dims{7, 3, 5})
	lens := n.AddInput("lens", Int32, Dims{3})
	l := n.AddReverseSequence(x, lens)
	if l.BatchAxis() != 1 || l.SequenceAxis() != 0 {
		t.Errorf("default axes %d %d, want 1 0", l.BatchAxis(), l.SequenceAxis())
	}
	datamoveWantDims(t, l, 0, Dims{7, 3, 5})

	l = n.AddReverseSequence(x, lens)
	l.SetBatchAxis(0)
	datamoveWantErr(t, l, diag.InvalidNode, "must differ")
	l = n.AddReverseSequence(x, lens)
	l.SetBatchAxis(2)
	datamoveWantErr(t, l, diag.ShapeMismatch, "3 entries but the batch axis 2")
	l = n.AddReverseSequence(x, lens)
	l.SetSequenceAxis(-1)
	datamoveWantErr(t, l, diag.InvalidNode, "sequence axis -1 is out of range")
	datamoveWantErr(t, n.AddReverseSequence(n.AddInput("v", Float32, Dims{3}), lens), diag.ShapeMismatch, "rank >= 2")
	datamoveWantErr(t, n.AddReverseSequence(x, n.AddInput("fl", Float32, Dims{3})), diag.TypeMismatch, "Int32 or Int64")
}
