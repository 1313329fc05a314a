package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestFillInfer(t *testing.T) {
	n := NewNetwork()
	l := n.AddFill(Dims{4}, FillLinspace, Int64)
	o := l.Output(0)
	if o.Type() != Int64 || !o.Dims().Equal(Dims{4}) {
		t.Fatalf("%v", o)
	}
	if v, ok := o.KnownValues(); !ok || len(v) != 4 || v[0] != 0 || v[3] != 3 {
		t.Fatalf("known range: %v %v", v, ok)
	}
	l.SetAlphaInt64(10)
	l.SetBetaInt64(-2)
	if v, _ := o.KnownValues(); v[3] != 4 || !l.IsAlphaBetaInt64() || l.AlphaInt64() != 10 || l.Beta() != -2 {
		t.Fatalf("int64 alpha/beta: %v", v)
	}
	l.SetAlpha(0.5) // back to float params: beta keeps its value
	if l.IsAlphaBetaInt64() || l.Beta() != -2 || l.Alpha() != 0.5 {
		t.Fatalf("float alpha/beta: %v %v", l.Alpha(), l.Beta())
	}
	// Dims from a shape tensor with known values.
	x := n.AddInput("x", Float32, Dims{2, 3})
	shape := n.AddShape(x).Output(0) // inputs are added before the layer that reads them
	r := n.AddFill(Dims{1}, FillRandomNormal, Float16)
	r.SetInput(0, shape)
	if d := r.Output(0).Dims(); !d.Equal(Dims{2, 3}) || r.Output(0).Type() != Float16 || r.Dimensions() != nil {
		t.Fatalf("dims from Shape: %v", d)
	}
	x.SetDims(Dims{-1, 3})
	if d := r.Output(0).Dims(); !d.Equal(Dims{-1, -1}) {
		t.Fatalf("dims from a dynamic Shape: %v", d)
	}
	r.SetDimensions(Dims{7})
	if r.Input(0) != nil || !r.Output(0).Dims().Equal(Dims{7}) || !r.Dimensions().Equal(Dims{7}) {
		t.Fatal("SetDimensions must clear input 0")
	}
	a := x // any tensor: only the getters are checked before SetAlpha/SetBeta replace it
	r.SetInput(1, a)
	r.SetInput(2, a)
	if r.Alpha() != -1 || r.Beta() != -1 || r.AlphaInt64() != -1 || r.BetaInt64() != -1 {
		t.Fatal("getters with dynamic alpha/beta must return -1")
	}
	r.SetBeta(2)
	r.SetAlpha(1)
	if r.Input(1) != nil || r.Input(2) != nil || r.Beta() != 2 {
		t.Fatal("SetAlpha/SetBeta must clear inputs 1 and 2")
	}
	r.SetOperation(FillRandomUniform)
	r.SetToType(Float32)
	n.MarkOutput(r.Output(0))
	n.MarkOutput(o)
	if err := n.Err(); err != nil || r.Operation() != FillRandomUniform || r.ToType() != Float32 {
		t.Fatal(err)
	}
}

func TestFillErrors(t *testing.T) {
	cases := []struct {
		name string
		add  func(n *Network) *FillLayer
		code diag.Code
		text string
	}{
		{"bad op", func(n *Network) *FillLayer { return n.AddFill(Dims{2}, FillOperation(3), Float32) }, diag.InvalidNode, "unknown fill operation 3"},
		{"linspace half", func(n *Network) *FillLayer { return n.AddFill(Dims{2}, FillLinspace, Float16) }, diag.TypeMismatch, "Linspace fills float32, int32 or int64, not float16"},
		{"random int", func(n *Network) *FillLayer { return n.AddFill(Dims{2}, FillRandomUniform, Int32) }, diag.TypeMismatch, "RandomUniform fills float32 or float16, not int32"},
		{"negative dims", func(n *Network) *FillLayer { return n.AddFill(Dims{-1}, FillRandomNormal, Float32) }, diag.ShapeMismatch, "static dims must be >= 0"},
		{"overflow", func(n *Network) *FillLayer { return n.AddFill(Dims{1 << 40, 1 << 40}, FillRandomNormal, Float32) }, diag.ShapeMismatch, "overflows"},
		{"static linspace rank 2", func(n *Network) *FillLayer { return n.AddFill(Dims{2, 2}, FillLinspace, Float32) }, diag.ShapeMismatch, "output must be 1-D"},
		{"float dims input", func(n *Network) *FillLayer {
			in0 := n.AddInput("d", Float32, Dims{2})
			l := n.AddFill(Dims{2}, FillRandomNormal, Float32)
			l.SetInput(0, in0)
			return l
		}, diag.TypeMismatch, "must be Int32 or Int64"},
		{"2-D dims input", func(n *Network) *FillLayer {
			in0 := n.AddInput("d", Int32, Dims{1, 2})
			l := n.AddFill(Dims{2}, FillRandomNormal, Float32)
			l.SetInput(0, in0)
			return l
		}, diag.ShapeMismatch, "must be 1-D"},
		{"unknown rank", func(n *Network) *FillLayer {
			in0 := n.AddInput("d", Int32, Dims{-1})
			l := n.AddFill(Dims{2}, FillRandomNormal, Float32)
			l.SetInput(0, in0)
			return l
		}, diag.ShapeMismatch, "must be known at build time"},
		{"rank 9", func(n *Network) *FillLayer {
			in0 := n.AddInput("d", Int32, Dims{9})
			l := n.AddFill(Dims{2}, FillRandomNormal, Float32)
			l.SetInput(0, in0)
			return l
		}, diag.ShapeMismatch, "at most 8 dims"},
		{"negative known dim", func(n *Network) *FillLayer {
			in0 := n.AddConstant(Dims{2}, Int32Weights(2, -4)).Output(0)
			l := n.AddFill(Dims{2}, FillRandomNormal, Float32)
			l.SetInput(0, in0)
			return l
		}, diag.ShapeMismatch, "dimension 1 is negative"},
		{"alpha alone", func(n *Network) *FillLayer {
			in1 := n.AddConstant(Dims{}, Float32Weights(0)).Output(0)
			l := n.AddFill(Dims{2}, FillRandomNormal, Float32)
			l.SetInput(1, in1)
			return l
		}, diag.InvalidNode, "only input 1 is set"},
		{"beta alone", func(n *Network) *FillLayer {
			in2 := n.AddConstant(Dims{}, Float32Weights(0)).Output(0)
			l := n.AddFill(Dims{2}, FillRandomNormal, Float32)
			l.SetInput(2, in2)
			return l
		}, diag.InvalidNode, "only input 2 is set"},
		{"types differ", func(n *Network) *FillLayer {
			in1 := n.AddConstant(Dims{}, Float32Weights(0)).Output(0)
			in2 := n.AddConstant(Dims{}, Int32Weights(0)).Output(0)
			l := n.AddFill(Dims{2}, FillRandomNormal, Float32)
			l.SetInput(1, in1)
			l.SetInput(2, in2)
			return l
		}, diag.TypeMismatch, "same type"},
		{"bool alpha", func(n *Network) *FillLayer {
			b := n.AddInput("b", Bool, Dims{})
			l := n.AddFill(Dims{2}, FillRandomNormal, Float32)
			l.SetInput(1, b)
			l.SetInput(2, b)
			return l
		}, diag.TypeMismatch, "must be a float or Int32/Int64"},
		{"vector alpha", func(n *Network) *FillLayer {
			in1 := n.AddConstant(Dims{1}, Float32Weights(0)).Output(0)
			in2 := n.AddConstant(Dims{}, Float32Weights(0)).Output(0)
			l := n.AddFill(Dims{2}, FillRandomNormal, Float32)
			l.SetInput(1, in1)
			l.SetInput(2, in2)
			return l
		}, diag.ShapeMismatch, "must be a scalar"},
		{"vector random beta", func(n *Network) *FillLayer {
			in1 := n.AddConstant(Dims{}, Float32Weights(0)).Output(0)
			in2 := n.AddConstant(Dims{1}, Float32Weights(0)).Output(0)
			l := n.AddFill(Dims{2}, FillRandomUniform, Float32)
			l.SetInput(1, in1)
			l.SetInput(2, in2)
			return l
		}, diag.ShapeMismatch, "must be a scalar for RandomUniform"},
		{"delta length", func(n *Network) *FillLayer {
			in1 := n.AddConstant(Dims{}, Float32Weights(0)).Output(0)
			in2 := n.AddConstant(Dims{3}, Float32Weights(1, 2, 3)).Output(0)
			l := n.AddFill(Dims{2, 3}, FillLinspace, Float32)
			l.SetInput(1, in1)
			l.SetInput(2, in2)
			return l
		}, diag.ShapeMismatch, "one value per output dim (2)"},
	}
	for _, c := range cases {
		n := NewNetwork()
		n.MarkOutput(c.add(n).Output(0))
		t.Run(c.name, func(t *testing.T) { pointwiseWantErr(t, n, c.code, c.text) })
	}
}
