package onnx

import (
	"errors"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

const ctlFloat = onnxpb.TensorProto_FLOAT

// ctlIfGraph: y = cond ? x + [1 2 3] : x * x, both branches reading the
// outer x; cond is a graph input, or an initializer when constCond is set.
func ctlIfGraph(t *testing.T, constCond *bool) *onnxpb.GraphProto {
	then := &onnxpb.GraphProto{
		Node:        []*onnxpb.NodeProto{ctlNode("Add", []string{"x", "k"}, []string{"t"})},
		Initializer: []*onnxpb.TensorProto{ctlInit(ctlF32T(t, []int64{3}, 1, 2, 3), "k")},
		Output:      []*onnxpb.ValueInfoProto{vinfo("t", ctlFloat, 3)},
	}
	els := &onnxpb.GraphProto{
		Node:   []*onnxpb.NodeProto{ctlNode("Mul", []string{"x", "x"}, []string{"e"})},
		Output: []*onnxpb.ValueInfoProto{vinfo("e", ctlFloat, 3)},
	}
	g := &onnxpb.GraphProto{
		Node: []*onnxpb.NodeProto{ctlNode("If", []string{"cond"}, []string{"y"},
			ctlAttrGraph("then_branch", then), ctlAttrGraph("else_branch", els))},
		Input:  []*onnxpb.ValueInfoProto{vinfo("x", ctlFloat, 3)},
		Output: []*onnxpb.ValueInfoProto{vinfo("y", ctlFloat, 3)},
	}
	if constCond != nil {
		c, _ := tensor.FromBool([]int64{}, []bool{*constCond})
		g.Initializer = append(g.Initializer, ctlInit(c, "cond"))
	} else {
		g.Input = append(g.Input, vinfo("cond", onnxpb.TensorProto_BOOL))
	}
	return g
}

func TestIfRuntimeConditionReadsOuterValues(t *testing.T) {
	net, err := ImportBytes(ctlModel(t, ctlIfGraph(t, nil), 16), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Each branch's layer reads x through a conditional input, so it is
	// inside its branch and runs only when taken.
	rs := net.Regions()
	if len(rs) != 1 || len(rs[0].TrueBranch) == 0 || len(rs[0].FalseBranch) == 0 {
		t.Fatalf("want one if-conditional with layers in both branches, got %+v", rs)
	}
	x := ctlF32T(t, []int64{3}, 2, -3, 0.5)
	for _, cond := range []bool{true, false} {
		c, _ := tensor.FromBool([]int64{}, []bool{cond})
		out := ctlRun(t, ctlIfGraph(t, nil), 16, map[string]*tensor.Tensor{"x": x, "cond": c})
		want := []float64{4, 9, 0.25}
		if cond {
			want = []float64{3, -1, 3.5}
		}
		ctlCheck(t, "y", out["y"], []int64{3}, want, tensor.Float32, 1)
	}
}

func TestIfConstantConditionImportsOneBranch(t *testing.T) {
	x := ctlF32T(t, []int64{3}, 2, -3, 0.5)
	for _, cond := range []bool{true, false} {
		net, err := ImportBytes(ctlModel(t, ctlIfGraph(t, &cond), 16), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(net.IfConditionals()); n != 0 {
			t.Fatalf("constant condition: %d if-conditionals, want 0", n)
		}
		out := ctlRun(t, ctlIfGraph(t, &cond), 16, map[string]*tensor.Tensor{"x": x})
		want := []float64{4, 9, 0.25}
		if cond {
			want = []float64{3, -1, 3.5}
		}
		ctlCheck(t, "y", out["y"], []int64{3}, want, tensor.Float32, 1)
	}
}

func TestIfBranchRankMismatch(t *testing.T) {
	g := ctlIfGraph(t, nil)
	els := g.Node[0].Attribute[1].G
	els.Initializer = append(els.Initializer, ctlInit(ctlF32T(t, []int64{1, 1}, 1), "one"))
	els.Node = append(els.Node, ctlNode("Mul", []string{"e", "one"}, []string{"e2"}))
	els.Output = []*onnxpb.ValueInfoProto{vinfo("e2", ctlFloat, 1, 3)}
	_, err := ImportBytes(ctlModel(t, g, 16), Options{})
	if !errors.Is(err, diag.UnsupportedAttr) || !strings.Contains(err.Error(), "rank") {
		t.Fatalf("got %v, want UnsupportedAttr about the rank", err)
	}
}

// ctlWhileLoop: s starts at 0; each iteration s += 1 and the loop goes on
// while s < 3.5 (at most M = 10 times). Scan outputs: s, the iteration
// number and a constant.
func ctlWhileLoop(t *testing.T, withM bool) *onnxpb.GraphProto {
	body := &onnxpb.GraphProto{
		Input: []*onnxpb.ValueInfoProto{vinfo("i", onnxpb.TensorProto_INT64), vinfo("c_in", onnxpb.TensorProto_BOOL), vinfo("s", ctlFloat, 1)},
		Node: []*onnxpb.NodeProto{
			ctlNode("Add", []string{"s", "one"}, []string{"s_out"}),
			{OpType: ctlStr("Less"), Input: []string{"s_out", "limit"}, Output: []string{"c_out"}},
			ctlNode("Identity", []string{"i"}, []string{"i_out"}),
		},
		Initializer: []*onnxpb.TensorProto{ctlInit(ctlF32T(t, []int64{}, 1), "one"), ctlInit(ctlF32T(t, []int64{}, 3.5), "limit"),
			ctlInit(ctlF32T(t, []int64{2}, 7, 8), "k")},
		Output: []*onnxpb.ValueInfoProto{vinfo("c_out", onnxpb.TensorProto_BOOL), vinfo("s_out", ctlFloat, 1),
			vinfo("s_out", ctlFloat, 1), vinfo("i_out", onnxpb.TensorProto_INT64), vinfo("k", ctlFloat, 2)},
	}
	m, _ := tensor.FromInt64([]int64{}, []int64{10})
	c, _ := tensor.FromBool([]int64{}, []bool{true})
	in := []string{"", "cond", "s0"}
	inits := []*onnxpb.TensorProto{ctlInit(c, "cond"), ctlInit(ctlF32T(t, []int64{1}, 0), "s0")}
	if withM {
		in[0] = "M"
		inits = append(inits, ctlInit(m, "M"))
	} else {
		body.Output = body.Output[:2]
	}
	out := []string{"s_final", "s_all", "i_all", "k_all"}[:len(body.Output)-1]
	g := &onnxpb.GraphProto{
		Node:        []*onnxpb.NodeProto{ctlNode("Loop", in, out, ctlAttrGraph("body", body))},
		Initializer: inits,
	}
	for _, o := range out {
		g.Output = append(g.Output, vinfo(o, ctlFloat))
	}
	return g
}

func ctlStr(s string) *string { return &s }

func TestLoopWhileStopsEarlyAndCutsScanOutputs(t *testing.T) {
	out := ctlRun(t, ctlWhileLoop(t, true), 16, nil)
	// Iterations run while the previous s_out < 3.5: s = 1, 2, 3, 4.
	ctlCheck(t, "s_final", out["s_final"], []int64{1}, []float64{4}, tensor.Float32, 1)
	ctlCheck(t, "s_all", out["s_all"], []int64{4, 1}, []float64{1, 2, 3, 4}, tensor.Float32, 1)
	ctlCheck(t, "i_all", out["i_all"], []int64{4}, []float64{0, 1, 2, 3}, tensor.Int64, 1)
	ctlCheck(t, "k_all", out["k_all"], []int64{4, 2}, []float64{7, 8, 7, 8, 7, 8, 7, 8}, tensor.Float32, 1)
}

func TestLoopWithoutTripCount(t *testing.T) {
	// A pure while loop: allowed without scan outputs.
	out := ctlRun(t, ctlWhileLoop(t, false), 16, nil)
	ctlCheck(t, "s_final", out["s_final"], []int64{1}, []float64{4}, tensor.Float32, 1)

	// Neither M nor a condition: an infinite loop.
	g := ctlWhileLoop(t, false)
	g.Node[0].Input[1] = ""
	body := g.Node[0].Attribute[0].G
	body.Output[0] = vinfo("c_in", onnxpb.TensorProto_BOOL)
	if _, err := ImportBytes(ctlModel(t, g, 16), Options{}); !errors.Is(err, diag.UnsupportedAttr) || !strings.Contains(err.Error(), "neither") {
		t.Fatalf("got %v, want UnsupportedAttr for an endless loop", err)
	}
}

func TestScanReverseInputAndOutputAxes(t *testing.T) {
	// Scan over axis 1 of x [2, 3] from the end; s accumulates the columns.
	// The scan output goes to axis 1 in reverse (prepended) order.
	body := &onnxpb.GraphProto{
		Input:  []*onnxpb.ValueInfoProto{vinfo("s", ctlFloat, 2), vinfo("col", ctlFloat, 2)},
		Node:   []*onnxpb.NodeProto{ctlNode("Add", []string{"s", "col"}, []string{"s_out"}), ctlNode("Identity", []string{"s_out"}, []string{"o"})},
		Output: []*onnxpb.ValueInfoProto{vinfo("s_out", ctlFloat, 2), vinfo("o", ctlFloat, 2)},
	}
	g := &onnxpb.GraphProto{
		Node: []*onnxpb.NodeProto{ctlNode("Scan", []string{"s0", "x"}, []string{"s_final", "ys"}, ctlAttrGraph("body", body),
			ctlAttrInt("num_scan_inputs", 1), ctlAttrInts("scan_input_axes", -1), ctlAttrInts("scan_input_directions", 1),
			ctlAttrInts("scan_output_axes", -1), ctlAttrInts("scan_output_directions", 1))},
		Input:  []*onnxpb.ValueInfoProto{vinfo("s0", ctlFloat, 2), vinfo("x", ctlFloat, 2, 3)},
		Output: []*onnxpb.ValueInfoProto{vinfo("s_final", ctlFloat, 2), vinfo("ys", ctlFloat, 2, 3)},
	}
	x := []float32{1, 2, 3, 10, 20, 30}
	s0 := []float32{0.5, -1}
	out := ctlRun(t, g, 11, map[string]*tensor.Tensor{"s0": ctlF32T(t, []int64{2}, s0...), "x": ctlF32T(t, []int64{2, 3}, x...)})
	// Naive: iteration k reads column 2-k; its output lands in column 2-k.
	s := []float64{float64(s0[0]), float64(s0[1])}
	ys := make([]float64, 6)
	for k := 0; k < 3; k++ {
		col := 2 - k
		for r := 0; r < 2; r++ {
			s[r] += float64(x[r*3+col])
			ys[r*3+(2-k)] = s[r]
		}
	}
	ctlCheck(t, "s_final", out["s_final"], []int64{2}, s, tensor.Float32, 3)
	ctlCheck(t, "ys", out["ys"], []int64{2, 3}, ys, tensor.Float32, 3)
}

// An If inside a Loop body whose else branch passes the loop-carried value
// straight through: s = 2*(flag ? s+1 : s), traced every iteration.
func TestIfInsideLoopWithPassThroughBranch(t *testing.T) {
	k := ctlInit(ctlF32T(t, []int64{}, 1), "one")
	then := &onnxpb.GraphProto{
		Node:   []*onnxpb.NodeProto{ctlNode("Add", []string{"s", "one"}, []string{"t"})},
		Output: []*onnxpb.ValueInfoProto{vinfo("t", ctlFloat, 1)},
	}
	els := &onnxpb.GraphProto{ // passes the outer value straight through
		Output: []*onnxpb.ValueInfoProto{vinfo("s", ctlFloat, 1)},
	}
	body := &onnxpb.GraphProto{
		Input: []*onnxpb.ValueInfoProto{vinfo("i", onnxpb.TensorProto_INT64), vinfo("c_in", onnxpb.TensorProto_BOOL), vinfo("s", ctlFloat, 1)},
		Node: []*onnxpb.NodeProto{
			ctlNode("If", []string{"flag"}, []string{"s_if"}, ctlAttrGraph("then_branch", then), ctlAttrGraph("else_branch", els)),
			ctlNode("Mul", []string{"s_if", "two"}, []string{"s_out"}),
			ctlNode("Identity", []string{"c_in"}, []string{"c_out"}),
		},
		Initializer: []*onnxpb.TensorProto{ctlInit(ctlF32T(t, []int64{}, 2), "two")},
		Output:      []*onnxpb.ValueInfoProto{vinfo("c_out", onnxpb.TensorProto_BOOL), vinfo("s_out", ctlFloat, 1), vinfo("s_if", ctlFloat, 1)},
	}
	m, _ := tensor.FromInt64([]int64{}, []int64{3})
	g := &onnxpb.GraphProto{
		Node:        []*onnxpb.NodeProto{ctlNode("Loop", []string{"M", "", "s0"}, []string{"s_final", "trace"}, ctlAttrGraph("body", body))},
		Initializer: []*onnxpb.TensorProto{ctlInit(m, "M"), k},
		Input:       []*onnxpb.ValueInfoProto{vinfo("flag", onnxpb.TensorProto_BOOL), vinfo("s0", ctlFloat, 1)},
		Output:      []*onnxpb.ValueInfoProto{vinfo("s_final", ctlFloat), vinfo("trace", ctlFloat)},
	}
	for _, flag := range []bool{true, false} {
		f, _ := tensor.FromBool([]int64{}, []bool{flag})
		out := ctlRun(t, g, 16, map[string]*tensor.Tensor{"flag": f, "s0": ctlF32T(t, []int64{1}, 1)})
		s, trace := 1.0, []float64{}
		for i := 0; i < 3; i++ {
			if flag {
				s++
			}
			trace = append(trace, s)
			s *= 2
		}
		ctlCheck(t, "s_final", out["s_final"], []int64{1}, []float64{s}, tensor.Float32, 1)
		ctlCheck(t, "trace", out["trace"], []int64{3, 1}, trace, tensor.Float32, 1)
	}
}

func TestLoopHugeTripCountWithScanOutputs(t *testing.T) {
	g := ctlWhileLoop(t, true)
	huge, _ := tensor.FromInt64([]int64{}, []int64{1 << 40})
	for i, init := range g.Initializer {
		if init.GetName() == "M" {
			g.Initializer[i] = ctlInit(huge, "M")
		}
	}
	if _, err := ImportBytes(ctlModel(t, g, 16), Options{}); !errors.Is(err, diag.UnsupportedAttr) || !strings.Contains(err.Error(), "M = 1099511627776") {
		t.Fatalf("got %v, want UnsupportedAttr naming M", err)
	}
}
