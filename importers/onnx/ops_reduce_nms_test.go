package onnx

import (
	"testing"

	"github.com/trtc/trtc/tensor"
)

// Cases the conformance data lacks: negative scores without a score
// threshold, several classes and batches together, nothing selected, and
// max_output_boxes_per_class left out (ONNX: select nothing).
func TestNMSOrderAndDefaults(t *testing.T) {
	// Two far-apart boxes per batch item; scores [batch=2, classes=2, boxes=2].
	boxes := redF32(t, []int64{2, 2, 4}, 0, 0, 1, 1, 5, 5, 6, 6, 0, 0, 1, 1, 5, 5, 6, 6)
	scores := redF32(t, []int64{2, 2, 2}, -0.5, -0.1, 0.3, 0.9, 0.2, 0.1, 0.8, 0.7)
	ins := []redIn{{name: "b", dt: tensor.Float32, dims: []int64{2, 2, 4}}, {name: "s", dt: tensor.Float32, dims: []int64{2, 2, 2}},
		{name: "m", init: redI64(t, []int64{1}, 5)}}
	node := redNode("NonMaxSuppression", []string{"b", "s", "m"}, []string{"y"})
	out, err := redRun(t, 11, node, ins, map[string]*tensor.Tensor{"b": boxes, "s": scores})
	if err != nil {
		t.Fatal(err)
	}
	// By batch, then class, then decreasing score; negative scores kept.
	want := []float64{0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1}
	redCheck(t, "rows", out["y"], tensor.Int64, []int64{8, 3}, want)

	// A score threshold above every score: no rows (the sort's k stays >= 1).
	ins = append(ins, redIn{name: "iou", init: redF32(t, []int64{1}, 0.5)}, redIn{name: "st", init: redF32(t, []int64{1}, 2)})
	node = redNode("NonMaxSuppression", []string{"b", "s", "m", "iou", "st"}, []string{"y"})
	out, err = redRun(t, 11, node, ins, map[string]*tensor.Tensor{"b": boxes, "s": scores})
	if err != nil {
		t.Fatal(err)
	}
	redCheck(t, "none selected", out["y"], tensor.Int64, []int64{0, 3}, nil)

	node = redNode("NonMaxSuppression", []string{"b", "s"}, []string{"y"})
	out, err = redRun(t, 10, node, ins[:2], map[string]*tensor.Tensor{"b": boxes, "s": scores})
	if err != nil {
		t.Fatal(err)
	}
	redCheck(t, "no max_output_boxes_per_class", out["y"], tensor.Int64, []int64{0, 3}, nil)
}
