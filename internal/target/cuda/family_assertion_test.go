package cuda

import (
	"errors"
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// TestAssertionOnGPU: an assertion is a kernel step that can fault, one
// block scans its condition, and its fault is the CPU engine's
// AssertionFailed error, word for word.
func TestAssertionOnGPU(t *testing.T) {
	srcs := map[string]string{}
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{5})
	ok := net.AddUnary(net.AddUnary(x, dsl.UnaryIsNaN).Output(0), dsl.UnaryNot)
	a := net.AddAssertion(ok.Output(0), "x must not be NaN")
	net.MarkOutput(net.AddUnary(x, dsl.UnaryAbs).Output(0))
	p := lowerOnGPU(t, net, dsl.LayerAssertion, srcs)
	compileAll(t, srcs)
	for i, l := range net.TopoLayers() {
		if l == a && !fallible(p.Steps[i], l) {
			t.Error("the assertion step has no fault slot")
		}
	}
	m, g, err := families[dsl.LayerAssertion].plan(a, shapeValues{dims: map[*dsl.Tensor][]int64{ok.Output(0): {5}}})
	if err != nil || len(m) != 1 || g.n != 5 || g.grid.X != 1 {
		t.Errorf("plan %v %+v %v, want 5 elements in one block", m, g, err)
	}
	xv, _ := tensor.FromFloat32([]int64{5}, []float32{1, 2, float32(math.NaN()), 4, float32(math.NaN())})
	_, cpuErr := runCPU(t, net, map[string]*tensor.Tensor{"x": xv})
	if !errors.Is(cpuErr, diag.AssertionFailed) {
		t.Fatalf("the CPU engine: %v", cpuErr)
	}
	got := faultOf(net, a, nil, 2, 0)
	if got == nil || got.Error() != cpuErr.Error() || !errors.Is(got, diag.AssertionFailed) {
		t.Errorf("fault: %v\n  CPU: %v", got, cpuErr)
	}
}
