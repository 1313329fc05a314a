package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestNormalizationDimsAndDefaults(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float16, Dims{-1, 6, 4, 4})
	s := n.AddInput("s", Float16, Dims{1, 6, 1, 1})
	b := n.AddInput("b", Float16, Dims{1, 6, 1, 1})
	l := n.AddNormalizationV2(x, s, b, 0b1100)
	if l.Epsilon() != 1e-5 || l.NbGroups() != 1 || !l.IsV2() || l.Axes() != 0b1100 {
		t.Fatalf("defaults: eps %g groups %d v2 %v", l.Epsilon(), l.NbGroups(), l.IsV2())
	}
	l.SetNbGroups(3)
	l.SetEpsilon(1e-3)
	if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(Dims{-1, 6, 4, 4}) || l.Output(0).Type() != Float16 {
		t.Fatalf("%v %v", got, l.Output(0).Type())
	}
}

func TestNormalizationV1GroupScale(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float32, Dims{2, 6, 4})
	s := n.AddInput("s", Float32, Dims{1, 3, 1})
	b := n.AddInput("b", Float32, Dims{1, 3, 1})
	l := n.AddNormalization(x, s, b, 0b100)
	l.SetNbGroups(3)
	linalgWantOK(t, n, l.Output(0))
	if l.IsV2() || !l.GroupScaled() {
		t.Fatal("AddNormalization with groups should scale per group")
	}
}

func TestNormalizationErrors(t *testing.T) {
	cases := []struct {
		name   string
		x, s   Dims
		sdt    DataType
		mask   uint32
		groups int64
		v2     bool
		code   diag.Code
		frag   string
	}{
		{"scale type", Dims{2, 4}, Dims{1, 4}, Float16, 2, 1, true, diag.TypeMismatch, "must have the input's type"},
		{"scale rank", Dims{2, 4}, Dims{4}, Float32, 2, 1, true, diag.ShapeMismatch, "must have the input's rank 2"},
		{"scale broadcast", Dims{2, 4}, Dims{1, 3}, Float32, 2, 1, true, diag.ShapeMismatch, "does not broadcast"},
		{"mask beyond rank", Dims{2, 4}, Dims{1, 4}, Float32, 4, 1, true, diag.InvalidNode, "sets bit 2"},
		{"empty mask", Dims{2, 4}, Dims{1, 4}, Float32, 0, 1, true, diag.InvalidNode, "axesMask is 0"},
		{"groups divide", Dims{2, 6, 4}, Dims{1, 6, 1}, Float32, 4, 4, true, diag.ShapeMismatch, "does not divide the 6 channels"},
		{"group mask", Dims{2, 6, 4}, Dims{1, 6, 1}, Float32, 6, 3, true, diag.InvalidNode, "every axis after the channel axis"},
		{"groups zero", Dims{2, 6, 4}, Dims{1, 6, 1}, Float32, 4, 0, true, diag.InvalidNode, "nbGroups is 0"},
		{"v1 group scale", Dims{2, 6, 4}, Dims{1, 6, 1}, Float32, 4, 3, false, diag.ShapeMismatch, "one value per group"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			x := n.AddInput("x", Float32, c.x)
			s := n.AddInput("s", c.sdt, c.s)
			b := n.AddInput("b", c.sdt, c.s)
			add := n.AddNormalization
			if c.v2 {
				add = n.AddNormalizationV2
			}
			l := add(x, s, b, c.mask)
			l.SetNbGroups(c.groups)
			n.MarkOutput(l.Output(0))
			linalgWantErr(t, n, c.code, c.frag)
		})
	}
}

func TestNormalizationBiasDimsDiffer(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float32, Dims{2, 4})
	l := n.AddNormalizationV2(x, n.AddInput("s", Float32, Dims{1, 4}), n.AddInput("b", Float32, Dims{1, 1}), 2)
	n.MarkOutput(l.Output(0))
	linalgWantErr(t, n, diag.ShapeMismatch, "must have the same dims")
}
