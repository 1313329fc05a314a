package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestCumulativeInfer(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float16, Dims{-1, 4})
	ax := n.AddConstant(Dims{}, Int64Weights(-1)).Output(0)
	l := n.AddCumulative(x, ax, CumulativeSum, true, false)
	if o := l.Output(0); o.Type() != Float16 || !o.Dims().Equal(Dims{-1, 4}) {
		t.Fatalf("%v", o)
	}
	if a, ok := l.Axis(); !ok || a != 1 {
		t.Fatalf("axis %d %v", a, ok)
	}
	l.SetExclusive(false)
	l.SetReverse(true)
	if l.Exclusive() || !l.Reverse() || l.Operation() != CumulativeSum {
		t.Fatal("setters")
	}
}

func TestCumulativeErrors(t *testing.T) {
	cases := []struct {
		name string
		add  func(n *Network) *CumulativeLayer
		code diag.Code
		text string
	}{
		{"bool data", func(n *Network) *CumulativeLayer {
			return n.AddCumulative(n.AddInput("x", Bool, Dims{3}), n.AddConstant(Dims{}, Int32Weights(0)).Output(0), CumulativeSum, false, false)
		}, diag.TypeMismatch, "needs float32"},
		{"scalar data", func(n *Network) *CumulativeLayer {
			return n.AddCumulative(n.AddInput("x", Float32, Dims{}), n.AddConstant(Dims{}, Int32Weights(0)).Output(0), CumulativeSum, false, false)
		}, diag.ShapeMismatch, "rank >= 1"},
		{"float axis", func(n *Network) *CumulativeLayer {
			return n.AddCumulative(n.AddInput("x", Float32, Dims{3}), n.AddConstant(Dims{}, Float32Weights(0)).Output(0), CumulativeSum, false, false)
		}, diag.TypeMismatch, "must be Int32 or Int64"},
		{"1-D axis", func(n *Network) *CumulativeLayer {
			return n.AddCumulative(n.AddInput("x", Float32, Dims{3}), n.AddConstant(Dims{1}, Int32Weights(0)).Output(0), CumulativeSum, false, false)
		}, diag.ShapeMismatch, "must be a scalar"},
		{"runtime axis", func(n *Network) *CumulativeLayer {
			return n.AddCumulative(n.AddInput("x", Float32, Dims{3}), n.AddInput("a", Int32, Dims{}), CumulativeSum, false, false)
		}, diag.InvalidNode, "build-time constant"},
		{"axis too large", func(n *Network) *CumulativeLayer {
			return n.AddCumulative(n.AddInput("x", Float32, Dims{3, 2}), n.AddConstant(Dims{}, Int32Weights(2)).Output(0), CumulativeSum, false, false)
		}, diag.InvalidNode, "axis 2 is out of range [-2, 1]"},
		{"axis too small", func(n *Network) *CumulativeLayer {
			return n.AddCumulative(n.AddInput("x", Float32, Dims{3, 2}), n.AddConstant(Dims{}, Int32Weights(-3)).Output(0), CumulativeSum, false, false)
		}, diag.InvalidNode, "axis -3 is out of range"},
		{"bad op", func(n *Network) *CumulativeLayer {
			return n.AddCumulative(n.AddInput("x", Float32, Dims{3}), n.AddConstant(Dims{}, Int32Weights(0)).Output(0), CumulativeOperation(1), false, false)
		}, diag.InvalidNode, "unknown cumulative operation 1"},
	}
	for _, c := range cases {
		n := NewNetwork()
		n.MarkOutput(c.add(n).Output(0))
		t.Run(c.name, func(t *testing.T) { pointwiseWantErr(t, n, c.code, c.text) })
	}
}

func TestAssertionInferAndErrors(t *testing.T) {
	n := NewNetwork()
	c := n.AddInput("c", Bool, Dims{3})
	a := n.AddAssertion(c, "m")
	n.MarkOutput(n.AddIdentity(c).Output(0))
	if a.NbOutputs() != 0 || a.Message() != "m" {
		t.Fatal("outputs or message")
	}
	a.SetMessage("other")
	if err := n.Err(); err != nil || a.Message() != "other" {
		t.Fatalf("%v", err)
	}
	for _, tc := range []struct {
		dt   DataType
		d    Dims
		code diag.Code
		text string
	}{
		{Int32, Dims{3}, diag.TypeMismatch, "must be Bool"},
		{Bool, Dims{2, 2}, diag.ShapeMismatch, "rank 0 or 1"},
	} {
		m := NewNetwork()
		x := m.AddInput("c", tc.dt, tc.d)
		m.AddAssertion(x, "m")
		m.MarkOutput(m.AddIdentity(x).Output(0))
		pointwiseWantErr(t, m, tc.code, tc.text)
	}
}
