package dsl

import (
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
)

// ctlWantProblem fails unless the network has an error with code whose
// message contains frag.
func ctlWantProblem(t *testing.T, n *Network, code diag.Code, frag string) {
	t.Helper()
	for _, d := range n.Diagnostics() {
		if d.Severity == diag.SeverityError && d.Code == code && strings.Contains(d.Msg, frag) {
			return
		}
	}
	t.Fatalf("no %v error containing %q; got:\n%v", code, frag, n.Diagnostics())
}

// ctlWantClean fails if the network has errors.
func ctlWantClean(t *testing.T, n *Network) {
	t.Helper()
	if err := n.Err(); err != nil {
		t.Fatal(err)
	}
}

// ctlSumLoop builds: acc = init; for i < count: acc += seq[i]. It returns
// the pieces tests modify.
func ctlSumLoop(n *Network) (lp *Loop, rec *RecurrenceLayer, it *IteratorLayer, next *Tensor, out *LoopOutputLayer) {
	seq := n.AddInput("seq", Float32, Dims{-1, 3})
	init := n.AddInput("init", Float32, Dims{3})
	count := n.AddInput("count", Int32, Dims{})
	lp = n.AddLoop()
	lp.SetName("sum")
	lp.AddTripLimit(count, TripLimitCount)
	rec = lp.AddRecurrence(init)
	it = lp.AddIterator(seq, 0, false)
	next = n.AddElementWise(rec.Output(0), it.Output(0), ElementWiseSum).Output(0)
	rec.SetInput(1, next)
	out = lp.AddLoopOutput(rec.Output(0), LoopOutputLastValue, 0)
	n.MarkOutput(out.Output(0))
	return
}

func TestLoopInference(t *testing.T) {
	n := NewNetwork()
	lp, rec, it, next, out := ctlSumLoop(n)
	ctlWantClean(t, n)
	if d := it.Output(0).Dims(); !d.Equal(Dims{3}) {
		t.Fatalf("iterator dims %v, want 3", d)
	}
	if d := out.Output(0).Dims(); !d.Equal(Dims{3}) {
		t.Fatalf("last value dims %v", d)
	}
	if rec.NbInputs() != 2 || rec.Input(1) != next {
		t.Fatalf("recurrence next value not recorded")
	}
	cat := lp.AddLoopOutput(it.Output(0), LoopOutputConcatenate, -1)
	cat.SetInput(1, n.Input(2))
	n.MarkOutput(cat.Output(0))
	if d := cat.Output(0).Dims(); !d.Equal(Dims{3, -1}) {
		t.Fatalf("concatenate dims %v, want 3x-1", d)
	}
	ctlWantClean(t, n)
	regs := n.Regions()
	if len(regs) != 1 || regs[0].Loop != lp || len(regs[0].Body) != 1 || regs[0].Body[0] != next.producer {
		t.Fatalf("regions %+v", regs)
	}
	if ls := n.Loops(); len(ls) != 1 || ls[0].Name() != "sum" {
		t.Fatalf("loops %v", ls)
	}
}

func TestIteratorNegativeAxisAndRange(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float16, Dims{2, 5, 7})
	lp := n.AddLoop()
	it := lp.AddIterator(x, -2, true)
	if d := it.Output(0).Dims(); !d.Equal(Dims{2, 7}) || it.Output(0).Type() != Float16 {
		t.Fatalf("dims %v type %v", d, it.Output(0).Type())
	}
	it.SetAxis(3)
	ctlWantProblem(t, n, diag.InvalidNode, "iterator axis 3 is out of range")
}

func TestLoopNoTripLimit(t *testing.T) {
	n := NewNetwork()
	init := n.AddInput("init", Float32, Dims{3})
	lp := n.AddLoop()
	rec := lp.AddRecurrence(init)
	rec.SetInput(1, n.AddActivation(rec.Output(0), ActivationTanh).Output(0))
	n.MarkOutput(lp.AddLoopOutput(rec.Output(0), LoopOutputLastValue, 0).Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "has no trip limit")
}

func TestLoopTwoCountLimits(t *testing.T) {
	n := NewNetwork()
	lp, _, _, _, _ := ctlSumLoop(n)
	lp.AddTripLimit(n.Input(2), TripLimitCount)
	ctlWantProblem(t, n, diag.InvalidGraph, "at most one of each")
}

func TestTripLimitTypeAndRank(t *testing.T) {
	n := NewNetwork()
	lp, _, _, _, _ := ctlSumLoop(n)
	lp.AddTripLimit(n.Input(1), TripLimitWhile)
	ctlWantProblem(t, n, diag.TypeMismatch, "a While trip limit takes a Bool scalar")
	ctlWantProblem(t, n, diag.ShapeMismatch, "takes a scalar")
}

func TestRecurrenceNextMissing(t *testing.T) {
	n := NewNetwork()
	count := n.AddInput("count", Int64, Dims{})
	init := n.AddInput("init", Float32, Dims{3})
	lp := n.AddLoop()
	lp.AddTripLimit(count, TripLimitCount)
	rec := lp.AddRecurrence(init)
	n.MarkOutput(lp.AddLoopOutput(rec.Output(0), LoopOutputLastValue, 0).Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "has no next value")
}

func TestRecurrenceNextType(t *testing.T) {
	n := NewNetwork()
	_, rec, _, _, _ := ctlSumLoop(n)
	rec.SetInput(1, n.AddInput("other", Float16, Dims{3}))
	ctlWantProblem(t, n, diag.TypeMismatch, "a recurrence keeps one type")
}

func TestRecurrenceNextDims(t *testing.T) {
	n := NewNetwork()
	_, rec, _, _, _ := ctlSumLoop(n)
	rec.SetInput(1, n.AddInput("other", Float32, Dims{4}))
	ctlWantProblem(t, n, diag.ShapeMismatch, "a recurrence keeps its dims")
}

func TestRecurrenceInitFromInsideLoop(t *testing.T) {
	n := NewNetwork()
	lp, _, _, next, _ := ctlSumLoop(n)
	r2 := lp.AddRecurrence(next)
	r2.SetInput(1, next)
	ctlWantProblem(t, n, diag.InvalidGraph, "is computed inside loop \"sum\"")
}

func TestLoopOutputNotInLoop(t *testing.T) {
	n := NewNetwork()
	lp, _, _, _, _ := ctlSumLoop(n)
	outside := n.AddActivation(n.Input(1), ActivationReLU).Output(0)
	cat := lp.AddLoopOutput(outside, LoopOutputConcatenate, 0)
	cat.SetInput(1, n.Input(2))
	n.MarkOutput(cat.Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "not computed inside loop")
}

func TestLastValueNeedsRecurrence(t *testing.T) {
	n := NewNetwork()
	lp, _, _, next, _ := ctlSumLoop(n)
	n.MarkOutput(lp.AddLoopOutput(next, LoopOutputLastValue, 0).Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "takes the output of a recurrence")
}

func TestConcatenateNeedsLength(t *testing.T) {
	n := NewNetwork()
	lp, _, it, _, _ := ctlSumLoop(n)
	n.MarkOutput(lp.AddLoopOutput(it.Output(0), LoopOutputReverse, 0).Output(0))
	ctlWantProblem(t, n, diag.InvalidNode, "needs the length of the iteration axis")
}

func TestConcatenateAxisRange(t *testing.T) {
	n := NewNetwork()
	lp, _, it, _, _ := ctlSumLoop(n)
	cat := lp.AddLoopOutput(it.Output(0), LoopOutputConcatenate, 2)
	cat.SetInput(1, n.Input(2))
	n.MarkOutput(cat.Output(0))
	ctlWantProblem(t, n, diag.InvalidNode, "loop output axis 2 is out of range")
}

func TestConcatenateLengthFromInsideLoop(t *testing.T) {
	n := NewNetwork()
	lp, _, it, _, _ := ctlSumLoop(n)
	idx := n.AddInput("i", Int32, Dims{4})
	lp2 := lp // same loop: a length computed from an iterator of it
	it2 := lp2.AddIterator(idx, 0, false)
	cat := lp.AddLoopOutput(it.Output(0), LoopOutputConcatenate, 0)
	cat.SetInput(1, it2.Output(0))
	n.MarkOutput(cat.Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "the concatenation length")
}

func TestBodyTensorAsNetworkOutput(t *testing.T) {
	n := NewNetwork()
	_, _, _, next, _ := ctlSumLoop(n)
	n.MarkOutput(next)
	ctlWantProblem(t, n, diag.InvalidGraph, "only a LoopOutput layer takes values out")
}

func TestOutsideLayerUsesBodyTensor(t *testing.T) {
	n := NewNetwork()
	_, _, _, next, _ := ctlSumLoop(n)
	leak := n.AddActivation(next, ActivationReLU)
	n.MarkOutput(leak.Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "is computed from values inside loop \"sum\"")
}

func TestRecurrenceValueAsNetworkOutput(t *testing.T) {
	n := NewNetwork()
	_, rec, _, _, _ := ctlSumLoop(n)
	n.MarkOutput(rec.Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, "take it out with AddLoopOutput")
}

func TestWhileConditionMustDependOnLoop(t *testing.T) {
	n := NewNetwork()
	lp, _, _, _, _ := ctlSumLoop(n)
	lp.AddTripLimit(n.AddInput("flag", Bool, Dims{}), TripLimitWhile)
	ctlWantProblem(t, n, diag.InvalidGraph, "never changes")
}

func TestCountFromInsideLoop(t *testing.T) {
	n := NewNetwork()
	lp, _, _, _, _ := ctlSumLoop(n)
	c := n.AddInput("c", Int32, Dims{})
	r := lp.AddRecurrence(c)
	r.SetInput(1, r.Output(0))
	lp.AddTripLimit(r.Output(0), TripLimitCount)
	ctlWantProblem(t, n, diag.InvalidGraph, "the trip count")
}

func TestWhileConditionFromIterator(t *testing.T) {
	n := NewNetwork()
	lp, _, _, _, _ := ctlSumLoop(n)
	flags := n.AddInput("flags", Bool, Dims{5})
	lp.AddTripLimit(lp.AddIterator(flags, 0, false).Output(0), TripLimitWhile)
	ctlWantProblem(t, n, diag.InvalidGraph, "depends on an iterator")
}

func TestNestedLoopRegions(t *testing.T) {
	n := NewNetwork()
	m := n.AddInput("m", Float32, Dims{3, 4})
	acc0 := n.AddInput("acc", Float32, Dims{})
	c3 := n.AddInput("c3", Int32, Dims{})
	c4 := n.AddInput("c4", Int32, Dims{})
	outer := n.AddLoop()
	outer.SetName("outer")
	outer.AddTripLimit(c3, TripLimitCount)
	orec := outer.AddRecurrence(acc0)
	row := outer.AddIterator(m, 0, false)
	inner := n.AddLoop()
	inner.SetName("inner")
	inner.AddTripLimit(c4, TripLimitCount)
	irec := inner.AddRecurrence(orec.Output(0))
	el := inner.AddIterator(row.Output(0), 0, false)
	inext := n.AddElementWise(irec.Output(0), el.Output(0), ElementWiseSum).Output(0)
	irec.SetInput(1, inext)
	iout := inner.AddLoopOutput(irec.Output(0), LoopOutputLastValue, 0)
	orec.SetInput(1, iout.Output(0))
	n.MarkOutput(outer.AddLoopOutput(orec.Output(0), LoopOutputLastValue, 0).Output(0))
	ctlWantClean(t, n)
	regs := n.Regions()
	if len(regs) != 2 {
		t.Fatalf("%d regions", len(regs))
	}
	// The outer body holds the whole inner loop (its 4 boundary layers and
	// its body layer).
	if len(regs[0].Body) != 5 || len(regs[1].Body) != 1 {
		t.Fatalf("outer body %d layers, inner %d", len(regs[0].Body), len(regs[1].Body))
	}
}

func TestLoopOutputFedBackIntoLoop(t *testing.T) {
	n := NewNetwork()
	lp, rec, _, _, out := ctlSumLoop(n)
	outside := n.AddActivation(out.Output(0), ActivationTanh).Output(0)
	rec.SetInput(1, n.AddElementWise(rec.Output(0), outside, ElementWiseSum).Output(0))
	_ = lp
	ctlWantProblem(t, n, diag.InvalidGraph, "(a cycle)")
}

func TestLayerReadsOtherLoopsBody(t *testing.T) {
	n := NewNetwork()
	_, recA, _, _, _ := ctlSumLoop(n)
	lpB := n.AddLoop()
	lpB.SetName("b")
	lpB.AddTripLimit(n.Input(2), TripLimitCount)
	recB := lpB.AddRecurrence(n.Input(1))
	// A layer of loop "sum" reads loop b's recurrence value.
	mix := n.AddElementWise(recA.Output(0), recB.Output(0), ElementWiseProd).Output(0)
	recB.SetInput(1, recB.Output(0))
	r2 := recA.Loop().AddRecurrence(n.Input(1))
	r2.SetInput(1, mix)
	n.MarkOutput(lpB.AddLoopOutput(recB.Output(0), LoopOutputLastValue, 0).Output(0))
	ctlWantProblem(t, n, diag.InvalidGraph, `is outside loop "b" but reads`)
}

// TestRegionNilAndForeignInputs: nil or foreign tensors given to boundary
// layers are reported by the input checks, and the structure analysis
// does not trip over them.
func TestRegionNilAndForeignInputs(t *testing.T) {
	n := NewNetwork()
	other := NewNetwork()
	foreign := n.AddActivation(other.AddInput("f", Float32, Dims{2}), ActivationReLU).Output(0)
	x := n.AddInput("x", Float32, Dims{2})
	lp := n.AddLoop()
	lp.AddTripLimit(nil, TripLimitWhile)
	lp.AddTripLimit(foreign, TripLimitCount)
	rec := lp.AddRecurrence(nil)
	rec.SetInput(1, x)
	lp.AddIterator(nil, 0, false)
	n.MarkOutput(lp.AddLoopOutput(nil, LoopOutputConcatenate, 0).Output(0))
	ic := n.AddIfConditional()
	ic.SetCondition(nil)
	ic.AddInput(foreign)
	n.MarkOutput(ic.AddOutput(nil, x).Output(0))
	ctlWantProblem(t, n, diag.InvalidArgument, "input 0 is nil")
	ctlWantProblem(t, n, diag.InvalidGraph, "belongs to network")
}

// TestNextValueCountsAsUsed: the next value of a recurrence is read by the
// loop, so no "never used" warning names it.
func TestNextValueCountsAsUsed(t *testing.T) {
	n := NewNetwork()
	ctlSumLoop(n)
	if ds := n.Diagnostics(); len(ds) != 0 {
		t.Fatalf("want no diagnostics, got %v", ds)
	}
}
