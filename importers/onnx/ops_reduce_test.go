package onnx

import (
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

// The conformance data covers static axes, keepdims and the opset-13
// ReduceSum axes input of length 0/1 with keepdims=1; these tests cover
// the rest: runtime axes with keepdims=0, empty sets, infinities, Bool and
// narrow integer types, and errors.

func TestReduceRuntimeAxesDropDims(t *testing.T) {
	x := make([]float32, 24)
	for i := range x {
		x[i] = float32(i%7) - 2.5
	}
	node := redNode("ReduceSum", []string{"x", "axes"}, []string{"y"}, redAttrI("keepdims", 0))
	ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2, 3, 4}}, {name: "axes", dt: tensor.Int64, dims: []int64{2}}}
	out, err := redRun(t, 13, node, ins, map[string]*tensor.Tensor{
		"x": redF32(t, []int64{2, 3, 4}, x...), "axes": redI64(t, []int64{2}, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 3)
	for a := 0; a < 2; a++ {
		for b := 0; b < 3; b++ {
			for c := 0; c < 4; c++ {
				want[b] += float64(x[a*12+b*4+c])
			}
		}
	}
	redCheck(t, "sum over axes -1, 0", out["y"], tensor.Float32, []int64{3}, want)
}

func TestReduceRuntimeAxesEmptyAtRunTime(t *testing.T) {
	x := []float32{1, -2, 3, 4, 5, -6}
	for _, noop := range []int64{0, 1} {
		node := redNode("ReduceMax", []string{"x", "axes"}, []string{"y"}, redAttrI("noop_with_empty_axes", noop))
		ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2, 3}}, {name: "axes", dt: tensor.Int64, dims: []int64{-1}}}
		out, err := redRun(t, 18, node, ins, map[string]*tensor.Tensor{
			"x": redF32(t, []int64{2, 3}, x...), "axes": redI64(t, []int64{0})})
		if err != nil {
			t.Fatal(err)
		}
		if noop == 1 {
			redCheck(t, "noop", out["y"], tensor.Float32, []int64{2, 3}, []float64{1, -2, 3, 4, 5, -6})
		} else {
			redCheck(t, "all axes", out["y"], tensor.Float32, []int64{1, 1}, []float64{5})
		}
	}
}

func TestReduceEmptySets(t *testing.T) {
	inf := math.Inf(1)
	cases := map[string]float64{
		"ReduceSum": 0, "ReduceProd": 1, "ReduceMax": -inf, "ReduceMin": inf, "ReduceSumSquare": 0,
		"ReduceL1": 0, "ReduceL2": 0, "ReduceLogSum": -inf, "ReduceLogSumExp": -inf,
	}
	for op, want := range cases {
		node := redNode(op, []string{"x", "axes"}, []string{"y"}, redAttrI("keepdims", 1))
		ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2, 0}}, {name: "axes", init: redI64(t, []int64{1}, 1)}}
		out, err := redRun(t, 18, node, ins, map[string]*tensor.Tensor{"x": redF32(t, []int64{2, 0})})
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		redCheck(t, op, out["y"], tensor.Float32, []int64{2, 1}, []float64{want, want})
	}
}

func TestReduceLogSumExpInfinities(t *testing.T) {
	inf := float32(math.Inf(1))
	node := redNode("ReduceLogSumExp", []string{"x"}, []string{"y"}, redAttrIs("axes", 1), redAttrI("keepdims", 0))
	ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{3, 2}}}
	out, err := redRun(t, 13, node, ins, map[string]*tensor.Tensor{"x": redF32(t, []int64{3, 2}, -inf, -inf, 1, 2, inf, 0)})
	if err != nil {
		t.Fatal(err)
	}
	redCheck(t, "logsumexp", out["y"], tensor.Float32, []int64{3}, []float64{math.Inf(-1), math.Log(math.Exp(1) + math.Exp(2)), math.Inf(1)})
}

func TestReduceNoopKeepsPointwiseSteps(t *testing.T) {
	// ONNX's function bodies: SumSquare is Mul then ReduceSum, so a no-op
	// reduction squares; L1 takes the absolute value.
	for op, want := range map[string][]float64{"ReduceSumSquare": {4, 9}, "ReduceL1": {2, 3}, "ReduceSum": {-2, 3}} {
		node := redNode(op, []string{"x"}, []string{"y"}, redAttrI("noop_with_empty_axes", 1))
		ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2}}}
		out, err := redRun(t, 18, node, ins, map[string]*tensor.Tensor{"x": redF32(t, []int64{2}, -2, 3)})
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		redCheck(t, op, out["y"], tensor.Float32, []int64{2}, want)
	}
}

func TestReduceBoolAndNarrowInts(t *testing.T) {
	b, _ := tensor.FromBool([]int64{2, 2}, []bool{true, false, false, false})
	for op, want := range map[string][]float64{"ReduceMax": {1, 0}, "ReduceMin": {0, 0}} {
		node := redNode(op, []string{"x", "axes"}, []string{"y"}, redAttrI("keepdims", 0))
		ins := []redIn{{name: "x", dt: tensor.Bool, dims: []int64{2, 2}}, {name: "axes", init: redI64(t, []int64{1}, 1)}}
		out, err := redRun(t, 20, node, ins, map[string]*tensor.Tensor{"x": b})
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		redCheck(t, op+" bool", out["y"], tensor.Bool, []int64{2}, want)
	}
	i8, _ := tensor.FromInt64s(tensor.Int8, []int64{3}, []int64{-100, 7, -128})
	node := redNode("ReduceMin", []string{"x"}, []string{"y"}, redAttrI("keepdims", 0))
	out, err := redRun(t, 13, node, []redIn{{name: "x", dt: tensor.Int8, dims: []int64{3}}}, map[string]*tensor.Tensor{"x": i8})
	if err != nil {
		t.Fatal(err)
	}
	redCheck(t, "int8 min", out["y"], tensor.Int8, []int64{}, []float64{-128})
	// L2 of integers computes in floats and truncates back: sqrt(9+16+1) = 5.09.
	i32, _ := tensor.FromInt64s(tensor.Int32, []int64{3}, []int64{3, -4, 1})
	node = redNode("ReduceL2", []string{"x"}, []string{"y"})
	out, err = redRun(t, 13, node, []redIn{{name: "x", dt: tensor.Int32, dims: []int64{3}}}, map[string]*tensor.Tensor{"x": i32})
	if err != nil {
		t.Fatal(err)
	}
	redCheck(t, "int32 l2", out["y"], tensor.Int32, []int64{1}, []float64{5})
}

func TestReduceErrors(t *testing.T) {
	node := redNode("ReduceMean", []string{"x"}, []string{"y"}, redAttrIs("axes", 2))
	_, err := redRun(t, 13, node, []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2, 3}}}, nil)
	redWantErr(t, err, diag.InvalidNode, "axis 2 is out of range")

	node = redNode("ReduceSum", []string{"x", "axes"}, []string{"y"}, redAttrI("keepdims", 0))
	ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2, 3}}, {name: "axes", dt: tensor.Int64, dims: []int64{-1}}}
	_, err = redRun(t, 13, node, ins, nil)
	redWantErr(t, err, diag.UnsupportedAttr, "unknown length")

	node = redNode("ReduceSum", []string{"x"}, []string{"y"})
	_, err = redRun(t, 13, node, []redIn{{name: "x", dt: tensor.Bool, dims: []int64{2}}}, nil)
	redWantErr(t, err, diag.TypeMismatch, "takes numbers")
}

func TestReduceRuntimeAxesEmptyDim(t *testing.T) {
	inf := math.Inf(1)
	for op, want := range map[string]float64{"ReduceMax": -inf, "ReduceSum": 0, "ReduceProd": 1} {
		node := redNode(op, []string{"x", "axes"}, []string{"y"}, redAttrI("keepdims", 0))
		ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2, 0, 3}}, {name: "axes", dt: tensor.Int64, dims: []int64{1}}}
		out, err := redRun(t, 18, node, ins, map[string]*tensor.Tensor{"x": redF32(t, []int64{2, 0, 3}), "axes": redI64(t, []int64{1}, 1)})
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		redCheck(t, op, out["y"], tensor.Float32, []int64{2, 3}, []float64{want, want, want, want, want, want})
	}
}

func TestReduceMeanRuntimeAxesInts(t *testing.T) {
	// The mean of [[1, 1], [0, 2]] is 4/4 = 1; averaging the column means
	// (0 and 1 after truncation) would give 0.
	x, _ := tensor.FromInt64s(tensor.Int32, []int64{2, 2}, []int64{1, 1, 0, 2})
	node := redNode("ReduceMean", []string{"x", "axes"}, []string{"y"}, redAttrI("keepdims", 0))
	ins := []redIn{{name: "x", dt: tensor.Int32, dims: []int64{2, 2}}, {name: "axes", dt: tensor.Int64, dims: []int64{2}}}
	out, err := redRun(t, 18, node, ins, map[string]*tensor.Tensor{"x": x, "axes": redI64(t, []int64{2}, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	redCheck(t, "int mean", out["y"], tensor.Int32, []int64{}, []float64{1})
	f := redF32(t, []int64{2, 3}, 1, 2, 2, 3, 4, 8)
	ins[0].dims = []int64{2, 3}
	ins[0].dt = tensor.Float32
	out, err = redRun(t, 18, node, ins, map[string]*tensor.Tensor{"x": f, "axes": redI64(t, []int64{2}, 1, -2)})
	if err != nil {
		t.Fatal(err)
	}
	redCheck(t, "float mean", out["y"], tensor.Float32, []int64{}, []float64{20.0 / 6})
}
