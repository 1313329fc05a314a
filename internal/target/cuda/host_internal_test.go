package cuda

import (
	"context"
	"errors"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/tensor"
)

// TestHostEngineOfEveryInputKind builds the one-layer host network of a
// layer whose inputs are a network input, a constant and a tensor-valued
// parameter.
func TestHostEngineOfEveryInputKind(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	axis := net.AddShuffle(net.AddConstant(dsl.Dims{1}, dsl.Int32Weights(1)).Output(0))
	axis.SetReshapeDimensions(dsl.Dims{})
	c := net.AddCumulative(x, axis.Output(0), dsl.CumulativeSum, false, false)
	net.MarkOutput(c.Output(0))
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	d := map[*dsl.Tensor][]int64{x: {2, 3}, axis.Output(0): {}, c.Output(0): {2, 3}}
	if _, err := hostEngine(c, d); err != nil {
		t.Fatal(err)
	}
}

// TestResolveDimsEvaluatesShapeTensors: a reshape whose shape the DSL
// cannot follow (it goes through a Select, which does not carry values) resolves by evaluating the shape subgraph from the input dims;
// one that reads input data does not.
func TestResolveDimsEvaluatesShapeTensors(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 6})
	s := net.AddShape(x).Output(0)
	// ONNX Expand's exporter idiom: where(shape == -1, 1, shape).
	minus := net.AddConstant(dsl.Dims{2}, dsl.Int64Weights(-1, -1)).Output(0)
	one := net.AddConstant(dsl.Dims{2}, dsl.Int64Weights(1, 1)).Output(0)
	s = net.AddSelect(net.AddElementWise(s, minus, dsl.ElementWiseEqual).Output(0), one, s).Output(0)
	flip := net.AddConstant(dsl.Dims{2}, dsl.Int64Weights(1, 0)).Output(0)
	s = net.AddGather(s, flip, 0).Output(0)
	sh := net.AddShuffle(x)
	sh.SetInput(1, s)
	net.MarkOutput(sh.Output(0))
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	if r, _, err := staticCopy(net, map[string][]int64{"x": {3, 6}}, nil); err != nil || firstDynamic(net, r) == nil {
		t.Fatalf("the DSL follows these values itself (%v): the test does not exercise evaluation", err)
	}
	dims, err := resolveDims(net, map[string][]int64{"x": {3, 6}})
	if err != nil {
		t.Fatal(err)
	}
	if got := dims[sh.Output(0)]; len(got) != 2 || got[0] != 6 || got[1] != 3 {
		t.Errorf("reshape dims %v, want [6 3]", got)
	}

	dd := dsl.NewNetwork()
	v := dd.AddInput("v", dsl.Int64, dsl.Dims{2})
	y := dd.AddInput("y", dsl.Float32, dsl.Dims{-1, 6})
	r := dd.AddShuffle(y)
	r.SetInput(1, dd.AddUnary(v, dsl.UnaryAbs).Output(0))
	dd.MarkOutput(r.Output(0))
	if _, err := resolveDims(dd, map[string][]int64{"v": {2}, "y": {3, 6}}); err == nil {
		t.Error("a shape read from input data resolved")
	}
}

// TestHostAssertion runs an Assertion layer on the host: true passes,
// false fails with AssertionFailed.
func TestHostAssertion(t *testing.T) {
	net := dsl.NewNetwork()
	b := net.AddInput("b", dsl.Bool, dsl.Dims{})
	a := net.AddAssertion(b, "b must hold")
	net.MarkOutput(net.AddIdentity(b).Output(0))
	e, err := hostEngine(a, map[*dsl.Tensor][]int64{b: {}})
	if err != nil {
		t.Fatal(err)
	}
	yes, _ := tensor.FromBool(nil, []bool{true})
	if _, err := e.Run(context.Background(), map[string]*tensor.Tensor{"in0": yes}); err != nil {
		t.Errorf("true: %v", err)
	}
	no, _ := tensor.FromBool(nil, []bool{false})
	if _, err := e.Run(context.Background(), map[string]*tensor.Tensor{"in0": no}); !errors.Is(err, diag.AssertionFailed) {
		t.Errorf("false: %v", err)
	}
}

// TestResolveDimsTinyBert: a BERT export (bench/gpu/tinybert.py: 2 layers,
// hidden 32) computes its embedding slices and expands through shape
// arithmetic the DSL cannot follow; every dim must resolve from the input
// shapes.
func TestResolveDimsTinyBert(t *testing.T) {
	net, err := onnx.Import("../../../importers/onnx/testdata/pytorch/tiny_bert.onnx", onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string][]int64{"input_ids": {2, 16}, "attention_mask": {2, 16}}
	if r, _, err := staticCopy(net, shapes, nil); err != nil || firstDynamic(net, r) == nil {
		t.Fatalf("the export's shapes resolve without evaluation (%v): the test exercises nothing", err)
	}
	dims, err := resolveDims(net, shapes)
	if err != nil {
		t.Fatal(err)
	}
	if d := dims[net.Output(0)]; len(d) != 3 || d[0] != 2 || d[1] != 16 || d[2] != 32 {
		t.Errorf("last_hidden_state dims %v, want [2 16 32]", d)
	}
}

// TestPlanNamesFixedKernels: copy, concatenation and gather steps name a
// kernel of the fixed module (Load looks every step's kernel up), and
// row-wise kernels launch one block per row.
func TestPlanNamesFixedKernels(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float16, dsl.Dims{2, 3, 5})
	sh := net.AddShuffle(x)
	sh.SetFirstTranspose(dsl.Permutation{0, 2, 1})
	cat := net.AddConcatenation([]*dsl.Tensor{sh.Output(0), sh.Output(0)})
	idx := net.AddConstant(dsl.Dims{2}, dsl.Int64Weights(0, 1)).Output(0)
	g := net.AddGather(cat.Output(0), idx, 1)
	sm := net.AddSoftMax(g.Output(0))
	sm.SetAxes(1 << 2)
	net.MarkOutput(sm.Output(0))
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	p, _, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fixed := map[string]bool{}
	for _, n := range fixedKernelNames() {
		fixed[n] = true
	}
	want := map[string]string{"Shuffle": "trtc_copy2", "Concatenation": "trtc_copy2", "Gather": "trtc_gather2_i64"}
	layers := net.TopoLayers()
	for _, s := range p.Steps {
		kind := layers[s.Layer].Type().String()
		if w, ok := want[kind]; ok && (s.Kernel != w || !fixed[s.Kernel]) {
			t.Errorf("%s step names kernel %q, want %q of the fixed module", kind, s.Kernel, w)
		}
	}
	dims, err := resolveDims(net, map[string][]int64{"x": {2, 3, 5}})
	if err != nil {
		t.Fatal(err)
	}
	// x 2x3x5 -> transpose 2x5x3 -> concatenated on axis 0: 4x5x3 ->
	// gather 2 of axis 1: 4x2x3; softmax over the last axis: 8 rows.
	if d := dims[sm.Output(0)]; len(d) != 3 || d[0] != 4 || d[1] != 2 || d[2] != 3 {
		t.Fatalf("softmax dims %v, want 4x2x3", d)
	}
	if l := launchOf(sm, dims); l.n != 8 || l.grid.X != 1 {
		t.Errorf("softmax over the last dim of 4x2x3 launches %+v, want 8 rows, a warp each, in one block", l)
	}
}
