package simplify

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

func TestDeadLayersDropsUnusedChains(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	y := n.AddActivation(x, dsl.ActivationReLU)
	y.SetName("relu")
	// Unused: a chain of two, and a constant.
	n.AddUnary(n.AddActivation(x, dsl.ActivationSigmoid).Output(0), dsl.UnaryExp)
	constF32(n, dsl.Dims{1}, 5)
	n.MarkOutput(y.Output(0))

	g := runPass(t, DeadLayers, n)
	wantKinds(t, g, "Activation:1")
	if g.Net.Layer(0).Name() != "relu" {
		t.Errorf("the kept layer is %s, want it to keep its name", dsl.LayerString(g.Net.Layer(0)))
	}
}

func TestDeadLayersKeepsAssertions(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{-1, 3})
	// assert(shape(x) > 0): nothing reads it, but it can fail the run.
	pos := n.AddElementWise(n.AddShape(x).Output(0), constI64(n, 0, 0), dsl.ElementWiseGreater)
	n.AddAssertion(pos.Output(0), "empty input")
	n.AddUnary(x, dsl.UnaryExp) // dead
	n.MarkOutput(n.AddActivation(x, dsl.ActivationReLU).Output(0))

	g := runPass(t, DeadLayers, n)
	wantKinds(t, g, "Activation:1 Assertion:1 Constant:1 ElementWise:1 Shape:1")
}

// loopNet builds out = relu(x) and a loop summing x over trip iterations;
// useLoop marks the loop's sum as an output too. The loop has a second,
// unused output.
func loopNet(useLoop bool) *dsl.Network {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	lp := n.AddLoop()
	trip := n.AddConstant(dsl.Dims{}, dsl.Int64Weights(3)).Output(0)
	lp.AddTripLimit(trip, dsl.TripLimitCount)
	rec := lp.AddRecurrence(x)
	sum := n.AddElementWise(rec.Output(0), x, dsl.ElementWiseSum)
	rec.SetInput(1, sum.Output(0))
	last := lp.AddLoopOutput(rec.Output(0), dsl.LoopOutputLastValue, 0)
	lp.AddLoopOutput(sum.Output(0), dsl.LoopOutputConcatenate, 0).SetInput(1, trip) // never read
	n.MarkOutput(n.AddActivation(x, dsl.ActivationReLU).Output(0))
	if useLoop {
		n.MarkOutput(n.AddUnary(last.Output(0), dsl.UnaryNeg).Output(0))
	}
	return n
}

func TestDeadLayersRegions(t *testing.T) {
	t.Run("unused loop goes whole", func(t *testing.T) {
		g := runPass(t, DeadLayers, loopNet(false))
		wantKinds(t, g, "Activation:1")
	})
	t.Run("used loop stays whole", func(t *testing.T) {
		n := loopNet(true)
		g := runPass(t, DeadLayers, n)
		if g != nil && g.Net != n {
			t.Errorf("nothing is dead, but the pass rebuilt the network: %s", kinds(g.Net))
		}
		if len(g.Net.Loops()) != 1 || len(g.Net.Loops()[0].BoundaryLayers()) != 4 {
			t.Errorf("the loop lost boundary layers: %s", kinds(g.Net))
		}
	})
	t.Run("dead layer after a used loop", func(t *testing.T) {
		n := loopNet(true)
		n.AddUnary(n.Output(1), dsl.UnaryExp) // reads the loop's result; dead
		g := runPass(t, DeadLayers, n)
		wantKinds(t, g, "Activation:1 Constant:1 ElementWise:1 LoopOutput:2 Recurrence:1 TripLimit:1 Unary:1")
	})
}

func TestDeadLayersNothingToDo(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2})
	n.MarkOutput(n.AddActivation(x, dsl.ActivationReLU).Output(0))
	g := ir.New(n)
	ng, err := DeadLayers(g, ir.Options{})
	if err != nil || ng != g {
		t.Errorf("DeadLayers on a network without dead layers = %v, %v; want the graph itself", ng, err)
	}
}
