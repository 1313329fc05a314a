package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestNMSInference(t *testing.T) {
	n := NewNetwork()
	boxes := n.AddInput("boxes", Float16, Dims{-1, 100, 4})
	scores := n.AddInput("scores", Float16, Dims{2, -1, 80})
	maxOut := n.AddInput("max", Int32, Dims{})
	l := n.AddNMS(boxes, scores, maxOut, Int64)
	datamoveWantDims(t, l, 0, Dims{-1, 3})
	datamoveWantDims(t, l, 1, Dims{})
	if l.Output(0).Type() != Int64 || l.Output(1).Type() != Int32 {
		t.Errorf("types %v %v, want int64 int32", l.Output(0).Type(), l.Output(1).Type())
	}
	if l.TopKBoxLimit() != NMSMaxTopKBoxLimit || l.BoundingBoxFormat() != BoxCornerPairs {
		t.Error("defaults differ from TensorRT's")
	}
	pc := n.AddInput("pc", Float16, Dims{2, 100, 80, 4})
	datamoveWantDims(t, n.AddNMS(pc, scores, maxOut, Int32), 0, Dims{-1, 3})

	f32 := n.AddInput("f32", Float32, Dims{2, 100, 80})
	i32 := n.AddInput("i32", Int32, Dims{2, 100, 80})
	datamoveWantErr(t, n.AddNMS(boxes, f32, maxOut, Int32), diag.TypeMismatch, "scores")
	datamoveWantErr(t, n.AddNMS(n.AddInput("ib", Int32, Dims{2, 100, 4}), i32, maxOut, Int32), diag.TypeMismatch, "Float32 or Float16")
	datamoveWantErr(t, n.AddNMS(n.AddInput("b5", Float16, Dims{2, 100, 5}), scores, maxOut, Int32), diag.ShapeMismatch, "do not match")
	datamoveWantErr(t, n.AddNMS(n.AddInput("b2", Float16, Dims{2, 4}), scores, maxOut, Int32), diag.ShapeMismatch, "must be [batch")
	datamoveWantErr(t, n.AddNMS(boxes, n.AddInput("s2", Float16, Dims{2, 100}), maxOut, Int32), diag.ShapeMismatch, "scores")
	datamoveWantErr(t, n.AddNMS(boxes, scores, n.AddInput("m1", Int32, Dims{1}), Int32), diag.ShapeMismatch, "scalar")
	datamoveWantErr(t, n.AddNMS(boxes, scores, maxOut, Float32), diag.TypeMismatch, "indices type")
	l = n.AddNMS(boxes, scores, maxOut, Int32)
	l.SetInput(3, n.AddInput("iou", Float16, Dims{}))
	datamoveWantErr(t, l, diag.TypeMismatch, "IoU threshold")
	l = n.AddNMS(boxes, scores, maxOut, Int32)
	l.SetTopKBoxLimit(5001)
	datamoveWantErr(t, l, diag.InvalidNode, "TopK box limit 5001")
	l = n.AddNMS(boxes, scores, maxOut, Int32)
	l.SetBoundingBoxFormat(BoundingBoxFormat(3))
	datamoveWantErr(t, l, diag.InvalidNode, "unknown bounding box format")
}
