package onnx

import (
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

// Int32 targets and an ignore_index out of the class range, which the
// conformance data (int64 targets) does not cover.
func TestNLLLossInt32TargetsIgnored(t *testing.T) {
	x := []float32{-1, -2, -3, -4, -5, -6} // [N=2, C=3]
	y, _ := tensor.FromInt64s(tensor.Int32, []int64{2}, []int64{2, -7})
	node := redNode("NegativeLogLikelihoodLoss", []string{"x", "y"}, []string{"z"}, redAttrI("ignore_index", -7), redAttrS("reduction", "none"))
	ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2, 3}}, {name: "y", dt: tensor.Int32, dims: []int64{2}}}
	out, err := redRun(t, 13, node, ins, map[string]*tensor.Tensor{"x": redF32(t, []int64{2, 3}, x...), "y": y})
	if err != nil {
		t.Fatal(err)
	}
	redCheck(t, "none", out["z"], tensor.Float32, []int64{2}, []float64{3, 0})
	// The mean over no counted entry is 0/0.
	y2, _ := tensor.FromInt64s(tensor.Int32, []int64{2}, []int64{-7, -7})
	node = redNode("NegativeLogLikelihoodLoss", []string{"x", "y"}, []string{"z"}, redAttrI("ignore_index", -7))
	out, err = redRun(t, 13, node, ins, map[string]*tensor.Tensor{"x": redF32(t, []int64{2, 3}, x...), "y": y2})
	if err != nil {
		t.Fatal(err)
	}
	redCheck(t, "mean of none", out["z"], tensor.Float32, []int64{}, []float64{math.NaN()})
}

func TestLossErrors(t *testing.T) {
	ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2, 3}}, {name: "y", dt: tensor.Int64, dims: []int64{2}}}
	node := redNode("SoftmaxCrossEntropyLoss", []string{"x", "y"}, []string{"z"}, redAttrS("reduction", "max"))
	_, err := redRun(t, 13, node, ins, nil)
	redWantErr(t, err, diag.UnsupportedAttr, `reduction is "max"`)
	ins[1].dims = []int64{2, 3}
	node = redNode("NegativeLogLikelihoodLoss", []string{"x", "y"}, []string{"z"})
	_, err = redRun(t, 13, node, ins, nil)
	redWantErr(t, err, diag.ShapeMismatch, "needs rank 1")
}
