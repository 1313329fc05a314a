package simplify

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

func TestCSEMergesChains(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	// Two copies of neg(exp(x)): the second exp merges into the first,
	// then the second neg, whose input is now the same, too.
	chain := func() *dsl.Tensor {
		return n.AddUnary(n.AddUnary(x, dsl.UnaryExp).Output(0), dsl.UnaryNeg).Output(0)
	}
	n.MarkOutput(n.AddElementWise(chain(), chain(), dsl.ElementWiseSum).Output(0))

	g := runPass(t, CSE, n)
	wantKinds(t, g, "ElementWise:1 Unary:2")
}

func TestCSEMergesEqualConstants(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	// Equal values in two weight tensors; a third constant differs.
	a := n.AddElementWise(x, constF32(n, dsl.Dims{1, 1}, 0.5), dsl.ElementWiseProd).Output(0)
	b := n.AddElementWise(x, constF32(n, dsl.Dims{1, 1}, 0.5), dsl.ElementWiseProd).Output(0)
	c := n.AddElementWise(x, constF32(n, dsl.Dims{1, 1}, 0.25), dsl.ElementWiseProd).Output(0)
	n.MarkOutput(n.AddElementWise(n.AddElementWise(a, b, dsl.ElementWiseSum).Output(0), c, dsl.ElementWiseSum).Output(0))

	g := runPass(t, CSE, n)
	wantKinds(t, g, "Constant:2 ElementWise:4")
}

func TestCSEKeepsWhatDiffers(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	// Random fills first, so merges after them leave their layer indices
	// (and so the CPU engine's draws) as they are.
	r1 := n.AddFill(dsl.Dims{2, 3}, dsl.FillRandomUniform, dsl.Float32).Output(0)
	r2 := n.AddFill(dsl.Dims{2, 3}, dsl.FillRandomUniform, dsl.Float32).Output(0)
	leaky := func(alpha float32) *dsl.Tensor {
		l := n.AddActivation(x, dsl.ActivationLeakyReLU)
		l.SetAlpha(alpha)
		return l.Output(0)
	}
	sum := func(a, b *dsl.Tensor) *dsl.Tensor { return n.AddElementWise(a, b, dsl.ElementWiseSum).Output(0) }
	// Different parameters, and the same op on swapped inputs.
	y := sum(sum(leaky(0.1), leaky(0.2)), sum(n.AddElementWise(x, r1, dsl.ElementWiseSub).Output(0), n.AddElementWise(r1, x, dsl.ElementWiseSub).Output(0)))
	n.MarkOutput(sum(y, r2))
	// Two outputs computed alike stay two tensors.
	n.MarkOutput(n.AddActivation(x, dsl.ActivationReLU).Output(0))
	n.MarkOutput(n.AddActivation(x, dsl.ActivationReLU).Output(0))

	g := ir.New(n)
	ng, err := CSE(g, ir.Options{})
	if err != nil || ng != g {
		t.Errorf("CSE merged something: %v, %v", ng, err)
	}
	runPass(t, CSE, n)
}

func TestCSEOutputReadsMergedLayer(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
	a := n.AddActivation(x, dsl.ActivationReLU).Output(0)
	b := n.AddActivation(x, dsl.ActivationReLU).Output(0)
	// b is an output and a is not: b's tensor becomes a's, which then
	// carries the output's name.
	n.MarkOutput(n.AddUnary(a, dsl.UnaryExp).Output(0))
	b.SetName("b")
	n.MarkOutput(b)

	g := runPass(t, CSE, n)
	wantKinds(t, g, "Activation:1 Unary:1")
}
