package cuda

import (
	"testing"

	"github.com/trtc/trtc/dsl"
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
