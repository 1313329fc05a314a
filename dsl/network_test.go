package dsl

import (
	"errors"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestShapesInferredWhenAdded(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{-1, 1, 8})
	b := n.AddInput("b", Float32, Dims{1, 4, 8})
	s := n.AddElementWise(a, b, ElementWiseSum).Output(0)
	if got := s.Dims(); !got.Equal(Dims{-1, 4, 8}) {
		t.Fatalf("dims %v, want -1x4x8", got)
	}
	c := n.AddElementWise(s, b, ElementWiseLess).Output(0)
	if c.Type() != Bool {
		t.Fatalf("comparison type %v, want bool", c.Type())
	}
	n.MarkOutput(c)
	if err := n.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestSetterReinfersDownstream(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{2, 3})
	act := n.AddActivation(a, ActivationReLU)
	out := n.AddActivation(act.Output(0), ActivationTanh).Output(0)
	a.SetDims(Dims{5, 3})
	if got := out.Dims(); !got.Equal(Dims{5, 3}) {
		t.Fatalf("after SetDims, downstream dims %v, want 5x3", got)
	}
}

// TestEveryProblemListed builds a network with several independent mistakes
// and checks that Err reports each of them, with the caller's file:line.
func TestEveryProblemListed(t *testing.T) {
	other := NewNetwork()
	other.SetName("other")
	foreign := other.AddInput("foreign", Float32, Dims{4})

	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{2, 3})
	b := n.AddInput("b", Float32, Dims{4, 3})
	i := n.AddInput("i", Int32, Dims{2, 3})
	n.AddInput("unused", Float32, Dims{1})
	rank := n.AddInput("rank", Float32, Dims{3})

	mismatch := n.AddElementWise(a, b, ElementWiseSum)                // dims 2 vs 4
	wrongType := n.AddElementWise(a, i, ElementWiseSum)               // float32 vs int32
	wrongRank := n.AddElementWise(a, rank, ElementWiseSum)            // rank 2 vs 1
	fromOther := n.AddActivation(foreign, ActivationReLU)             // another network's tensor
	intAct := n.AddActivation(i, ActivationSigmoid)                   // int input
	downstream := n.AddActivation(mismatch.Output(0), ActivationReLU) // quiet: input already bad
	for _, l := range []Layer{mismatch, wrongType, wrongRank, fromOther, intAct, downstream} {
		n.MarkOutput(l.Output(0))
	}
	// A cycle through SetInput.
	c1 := n.AddActivation(a, ActivationReLU)
	c2 := n.AddActivation(c1.Output(0), ActivationReLU)
	c1.SetInput(0, c2.Output(0))
	n.MarkOutput(c2.Output(0))

	err := n.Err()
	var list diag.List
	if !errors.As(err, &list) {
		t.Fatalf("Err() = %v, want a diag.List", err)
	}
	checks := []struct {
		code diag.Code
		text string
	}{
		{diag.ShapeMismatch, "dimension 0: 2 and 4"},
		{diag.TypeMismatch, "different types"},
		{diag.ShapeMismatch, "ranks differ"},
		{diag.InvalidGraph, `belongs to network "other"`},
		{diag.TypeMismatch, "needs a float input"},
		{diag.InvalidGraph, "cycle"},
	}
	for _, c := range checks {
		found := false
		for _, e := range list {
			if e.Code == c.code && strings.Contains(e.Msg, c.text) {
				found = true
				if e.Loc != "" && !strings.Contains(e.Loc, "network_test.go:") {
					t.Errorf("%q points at %s, want this test file", c.text, e.Loc)
				}
			}
		}
		if !found {
			t.Errorf("missing %v %q in:\n%v", c.code, c.text, err)
		}
	}
	unusedWarned := false
	for _, w := range n.Diagnostics().Warnings() {
		unusedWarned = unusedWarned || strings.Contains(w.Msg, `"unused" is not used`)
	}
	if !unusedWarned {
		t.Error("no warning about the unused input (TensorRT warns: Unused Input)")
	}
	if got, want := len(list.Errors()), len(checks); got != want {
		t.Errorf("%d errors, want %d (one per mistake, none for the layer downstream of a bad one):\n%v", got, want, err)
	}
	if !errors.Is(err, diag.ShapeMismatch) || !errors.Is(err, diag.InvalidGraph) {
		t.Error("errors.Is does not find the codes in the list")
	}
}

func TestNoOutputsAndUnusedLayer(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{2})
	n.AddActivation(a, ActivationReLU)
	d := n.Diagnostics()
	if !d.HasErrors() || !strings.Contains(d.Error(), "no outputs") {
		t.Fatalf("want a no-outputs error, got %v", d)
	}
	if len(d.Warnings()) != 1 || !strings.Contains(d.Warnings()[0].Msg, "never used") {
		t.Fatalf("want a warning about the unused output, got %v", d.Warnings())
	}
}

func TestDimsStringRoundTrip(t *testing.T) {
	for _, s := range []string{"1x3x224x224", "-1x128", "7"} {
		d, err := ParseDims(s)
		if err != nil || d.String() != s {
			t.Errorf("ParseDims(%q) = %v, %v", s, d, err)
		}
	}
	if _, err := ParseDims("1x-2"); err == nil {
		t.Error("ParseDims accepted -2")
	}
	if d, _ := ParseDims("scalar"); d.Rank() != 0 {
		t.Error("scalar is not rank 0")
	}
}

func TestErrorfPlaceholderStaysQuiet(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{2})
	bad := n.Errorf(diag.InvalidArgument, "weights for %q have the wrong shape", "fc1")
	out := n.AddElementWise(a, bad, ElementWiseSum).Output(0)
	n.MarkOutput(out)
	errs := n.Diagnostics().Errors()
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "fc1") || !strings.Contains(errs[0].Loc, "network_test.go") {
		t.Fatalf("want exactly the recorded error at this file, got %v", errs)
	}
}

func TestSetterOnEarlierLayerReinfersLaterOnes(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{2, 3})
	b := n.AddInput("b", Float32, Dims{1, 1})
	sum := n.AddElementWise(a, a, ElementWiseSum)
	cmp := n.AddElementWise(sum.Output(0), sum.Output(0), ElementWiseSum)
	if cmp.Output(0).Type() != Float32 {
		t.Fatal("want float32 before the change")
	}
	sum.SetOperation(ElementWiseLess) // now Bool, and Sum of Bools is an error downstream
	if sum.Output(0).Type() != Bool {
		t.Fatalf("after SetOperation, type %v, want bool", sum.Output(0).Type())
	}
	sum.SetInput(1, b)
	if d := sum.Output(0).Dims(); !d.Equal(Dims{2, 3}) {
		t.Fatalf("after SetInput, dims %v", d)
	}
	n.MarkOutput(cmp.Output(0))
	if err := n.Err(); err == nil || !strings.Contains(err.Error(), "not defined on Bool") {
		t.Fatalf("want the downstream layer to reject Bool inputs, got %v", err)
	}
}

func TestProducerAddedAfterConsumer(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{2, 3})
	sum := n.AddElementWise(a, a, ElementWiseSum)
	late := n.AddActivation(a, ActivationReLU) // added after sum, then fed into it
	sum.SetInput(1, late.Output(0))
	out := n.AddActivation(sum.Output(0), ActivationTanh).Output(0)
	n.MarkOutput(out)
	order := n.TopoLayers()
	pos := map[Layer]int{}
	for i, l := range order {
		pos[l] = i
	}
	if pos[late] > pos[sum] {
		t.Fatalf("TopoLayers puts the producer after its consumer: %v", order)
	}
	if err := n.Err(); err != nil {
		t.Fatal(err)
	}
}
