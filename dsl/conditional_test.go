package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

// ctlIfNet builds: out = cond ? relu(x) : tanh(x)... with branch dims chosen
// by the caller (y is a second input used by the false branch).
func ctlIfNet(n *Network, xd, yd Dims) (*IfConditional, *ConditionalOutputLayer) {
	c := n.AddInput("c", Bool, Dims{})
	x := n.AddInput("x", Float32, xd)
	y := n.AddInput("y", Float32, yd)
	ic := n.AddIfConditional()
	ic.SetName("pick")
	ic.SetCondition(c)
	xi := ic.AddInput(x)
	yi := ic.AddInput(y)
	t := n.AddActivation(xi.Output(0), ActivationReLU).Output(0)
	f := n.AddActivation(yi.Output(0), ActivationTanh).Output(0)
	out := ic.AddOutput(t, f)
	n.MarkOutput(out.Output(0))
	return ic, out
}

func TestConditionalInferenceMergesDims(t *testing.T) {
	for _, tc := range []struct{ x, y, want Dims }{
		{Dims{2, 3}, Dims{2, 3}, Dims{2, 3}},
		{Dims{2, 3}, Dims{2, 4}, Dims{2, -1}},
		{Dims{-1, 3}, Dims{2, 3}, Dims{-1, 3}},
	} {
		n := NewNetwork()
		ic, out := ctlIfNet(n, tc.x, tc.y)
		ctlWantClean(t, n)
		if d := out.Output(0).Dims(); !d.Equal(tc.want) {
			t.Fatalf("%v / %v: dims %v, want %v", tc.x, tc.y, d, tc.want)
		}
		regs := n.Regions()
		if len(regs) != 1 || regs[0].IfConditional != ic || len(regs[0].TrueBranch) != 1 || len(regs[0].FalseBranch) != 1 ||
			regs[0].TrueBranch[0].Type() != LayerActivation {
			t.Fatalf("regions %+v", regs)
		}
		if cs := n.IfConditionals(); len(cs) != 1 || cs[0].Name() != "pick" {
			t.Fatalf("conditionals %v", cs)
		}
	}
}

func TestConditionalBranchTypesDiffer(t *testing.T) {
	n := NewNetwork()
	c := n.AddInput("c", Bool, Dims{})
	x := n.AddInput("x", Float32, Dims{2})
	h := n.AddInput("h", Float16, Dims{2})
	ic := n.AddIfConditional()
	ic.SetCondition(c)
	n.MarkOutput(ic.AddOutput(ic.AddInput(x).Output(0), ic.AddInput(h).Output(0)).Output(0))
	ctlWantProblem(t, n, diag.TypeMismatch, "the branch outputs differ in type")
}

func TestConditionalBranchRanksDiffer(t *testing.T) {
	n := NewNetwork()
	_, _ = ctlIfNet(n, Dims{2}, Dims{2, 1})
	ctlWantProblem(t, n, diag.ShapeMismatch, "the branch outputs differ in rank")
}

func TestConditionNotBoolScalar(t *testing.T) {
	n := NewNetwork()
	ic := n.AddIfConditional()
	x := n.AddInput("x", Float32, Dims{2})
	ic.SetCondition(x)
	n.MarkOutput(ic.AddOutput(x, x).Output(0))
	ctlWantProblem(t, n, diag.TypeMismatch, "must be a Bool scalar")
}

func TestConditionalWithoutCondition(t *testing.T) {
	n := NewNetwork()
	ic := n.AddIfConditional()
	x := n.AddInput("x", Float32, Dims{2})
	n.MarkOutput(ic.AddOutput(x, x).Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "has 0 conditions")
}

func TestConditionalTwoConditions(t *testing.T) {
	n := NewNetwork()
	ic, _ := ctlIfNet(n, Dims{2}, Dims{2})
	ic.SetCondition(n.Input(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "has 2 conditions")
}

func TestConditionalWithoutOutputs(t *testing.T) {
	n := NewNetwork()
	c := n.AddInput("c", Bool, Dims{})
	x := n.AddInput("x", Float32, Dims{2})
	ic := n.AddIfConditional()
	ic.SetCondition(c)
	n.MarkOutput(n.AddActivation(x, ActivationReLU).Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "has no outputs")
}

func TestConditionalBranchReadsOtherBranch(t *testing.T) {
	n := NewNetwork()
	c := n.AddInput("c", Bool, Dims{})
	x := n.AddInput("x", Float32, Dims{2})
	ic := n.AddIfConditional()
	ic.SetCondition(c)
	xi := ic.AddInput(x).Output(0)
	tr := n.AddActivation(xi, ActivationReLU).Output(0)
	fa := n.AddActivation(tr, ActivationTanh).Output(0) // false branch reading the true branch
	n.MarkOutput(ic.AddOutput(tr, fa).Output(0))
	// relu feeds both outputs, so it is in both branches: legal.
	ctlWantClean(t, n)

	n = NewNetwork()
	c = n.AddInput("c", Bool, Dims{})
	x = n.AddInput("x", Float32, Dims{2})
	ic = n.AddIfConditional()
	ic.SetCondition(c)
	xi = ic.AddInput(x).Output(0)
	onlyTrue := n.AddActivation(xi, ActivationReLU).Output(0)
	tr = n.AddActivation(onlyTrue, ActivationSigmoid).Output(0)
	// The second output's false side reads the first output's true side.
	o1 := ic.AddOutput(tr, xi)
	o2 := ic.AddOutput(xi, n.AddActivation(onlyTrue, ActivationTanh).Output(0))
	n.MarkOutput(o1.Output(0))
	n.MarkOutput(o2.Output(0))
	ctlWantClean(t, n) // onlyTrue feeds both sides, so both branches run it
	if r := n.Regions()[0]; len(r.TrueBranch) != 2 || len(r.FalseBranch) != 2 {
		t.Fatalf("branches %d / %d layers, want 2 / 2", len(r.TrueBranch), len(r.FalseBranch))
	}
}

func TestConditionalBodyAsNetworkOutput(t *testing.T) {
	n := NewNetwork()
	_, out := ctlIfNet(n, Dims{2}, Dims{2})
	n.MarkOutput(out.Input(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "only a ConditionalOutput layer takes values out")
}

func TestConditionalInputFromInside(t *testing.T) {
	n := NewNetwork()
	ic, out := ctlIfNet(n, Dims{2}, Dims{2})
	inner := ic.AddInput(out.Input(0))
	n.MarkOutput(ic.AddOutput(inner.Output(0), inner.Output(0)).Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "the conditional input")
}

func TestConditionFromInside(t *testing.T) {
	n := NewNetwork()
	c := n.AddInput("c", Bool, Dims{})
	ic := n.AddIfConditional()
	ci := ic.AddInput(c).Output(0)
	ic.SetCondition(ci)
	n.MarkOutput(ic.AddOutput(ci, ci).Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "the condition")
}

func TestIfInsideLoopRegions(t *testing.T) {
	n := NewNetwork()
	v := n.AddInput("v", Float32, Dims{5})
	zero := n.AddInput("zero", Float32, Dims{})
	count := n.AddInput("count", Int32, Dims{})
	lp := n.AddLoop()
	lp.AddTripLimit(count, TripLimitCount)
	acc := lp.AddRecurrence(zero)
	e := lp.AddIterator(v, 0, false).Output(0)
	pos := n.AddElementWise(e, zero, ElementWiseGreater).Output(0)
	ic := n.AddIfConditional()
	ic.SetCondition(pos)
	a := ic.AddInput(acc.Output(0)).Output(0)
	x := ic.AddInput(e).Output(0)
	sum := n.AddElementWise(a, x, ElementWiseSum).Output(0)
	diff := n.AddElementWise(a, x, ElementWiseSub).Output(0)
	acc.SetInput(1, ic.AddOutput(sum, diff).Output(0))
	n.MarkOutput(lp.AddLoopOutput(acc.Output(0), LoopOutputLastValue, 0).Output(0))
	ctlWantClean(t, n)
	regs := n.Regions()
	// Loop body: greater, the conditional's 4 boundary layers, sum, diff.
	if len(regs) != 2 || len(regs[0].Body) != 7 || len(regs[1].TrueBranch) != 1 {
		t.Fatalf("loop body %d, true branch %d", len(regs[0].Body), len(regs[1].TrueBranch))
	}
}
