package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestEinsumDims(t *testing.T) {
	cases := []struct {
		eq   string
		ins  []Dims
		want Dims
	}{
		{"ik,kj->ij", []Dims{{2, 3}, {3, 4}}, Dims{2, 4}},
		{"ik,kj", []Dims{{2, 3}, {3, 4}}, Dims{2, 4}},
		{"ba,ac", []Dims{{2, 3}, {3, 4}}, Dims{2, 4}}, // implicit: b, c
		{"ij->ji", []Dims{{2, 3}}, Dims{3, 2}},
		{"ii", []Dims{{3, 3}}, Dims{}},
		{"ii->i", []Dims{{3, 3}}, Dims{3}},
		{"i,i->", []Dims{{5}, {5}}, Dims{}},
		{"bij,bjk->bik", []Dims{{-1, 2, 3}, {-1, 3, 4}}, Dims{-1, 2, 4}},
		{"...ii->...i", []Dims{{5, 6, 3, 3}}, Dims{5, 6, 3}},
		{"...ij,...jk", []Dims{{7, 2, 3}, {3, 4}}, Dims{7, 2, 4}},
		{"ij,ij->ij", []Dims{{1, 3}, {4, 3}}, Dims{4, 3}},
		{"i j , j k -> i k", []Dims{{2, 3}, {3, 4}}, Dims{2, 4}},
		{"->", []Dims{{}}, Dims{}},
		{"i,j,k->kji", []Dims{{2}, {3}, {4}}, Dims{4, 3, 2}},
	}
	for _, c := range cases {
		n := NewNetwork()
		var ins []*Tensor
		for i, d := range c.ins {
			ins = append(ins, n.AddInput(string(rune('a'+i)), Float16, d))
		}
		l := n.AddEinsum(ins, c.eq)
		if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(c.want) || l.Output(0).Type() != Float32 {
			t.Errorf("%q: %v %v, want %v float32", c.eq, got, l.Output(0).Type(), c.want)
		}
	}
}

func TestEinsumErrors(t *testing.T) {
	cases := []struct {
		name string
		eq   string
		ins  []Dims
		dt   DataType
		code diag.Code
		frag string
	}{
		{"uppercase", "iJ->i", []Dims{{2, 3}}, Float32, diag.InvalidNode, "uppercase label 'J' at position 1"},
		{"bad char", "i2->i", []Dims{{2, 3}}, Float32, diag.InvalidNode, "character '2' at position 1"},
		{"lone dot", "i.j", []Dims{{2, 3}}, Float32, diag.InvalidNode, "'.' at position 1"},
		{"dash", "ij-i", []Dims{{2, 3}}, Float32, diag.InvalidNode, "'-' at position 2"},
		{"two arrows", "ij->i->j", []Dims{{2, 3}}, Float32, diag.InvalidNode, "second '->' at position 5"},
		{"two ellipses", "...i...->i", []Dims{{2, 3}}, Float32, diag.InvalidNode, "second ellipsis in one term at position 4"},
		{"unknown output", "ij->k", []Dims{{2, 3}}, Float32, diag.InvalidNode, "'k' at position 4 appears in no input"},
		{"repeated output", "ij->ii", []Dims{{2, 3}}, Float32, diag.InvalidNode, "'i' at position 5 appears twice"},
		{"output ellipsis only", "ij->...i", []Dims{{2, 3}}, Float32, diag.InvalidNode, "is in the output but in no input"},
		{"dropped ellipsis", "...i->i", []Dims{{2, 3}}, Float32, diag.InvalidNode, "have no '...'"},
		{"term count", "ij,jk->ik", []Dims{{2, 3}}, Float32, diag.InvalidNode, "2 operand terms but the layer has 1 inputs"},
		{"rank", "ijk->i", []Dims{{2, 3}}, Float32, diag.InvalidNode, "has 3 subscripts but input 0 has rank 2"},
		{"sizes", "ij,jk->ik", []Dims{{2, 3}, {4, 5}}, Float32, diag.ShapeMismatch, "label j has size 4 in input 1 but 3"},
		{"diagonal sizes", "ii->i", []Dims{{2, 3}}, Float32, diag.ShapeMismatch, "repeated in input 0"},
		{"bf16", "ij->ji", []Dims{{2, 3}}, BFloat16, diag.TypeMismatch, "Float32 or Float16"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			var ins []*Tensor
			for i, d := range c.ins {
				ins = append(ins, n.AddInput(string(rune('a'+i)), c.dt, d))
			}
			n.MarkOutput(n.AddEinsum(ins, c.eq).Output(0))
			linalgWantErr(t, n, c.code, c.frag)
		})
	}
}

func TestEinsumSetEquation(t *testing.T) {
	n := NewNetwork()
	l := n.AddEinsum([]*Tensor{n.AddInput("a", Float32, Dims{2, 3})}, "ij->ij")
	if !l.SetEquation("ij->ji") || l.Equation() != "ij->ji" {
		t.Fatal("valid equation refused")
	}
	if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(Dims{3, 2}) {
		t.Fatalf("dims %v", got)
	}
	if l.SetEquation("i$j") || l.Equation() != "ij->ji" {
		t.Fatal("invalid equation accepted")
	}
	linalgWantErr(t, n, diag.InvalidArgument, "position 1")
}

func TestEinsumNoInputs(t *testing.T) {
	n := NewNetwork()
	n.MarkOutput(n.AddEinsum(nil, "->").Output(0))
	linalgWantErr(t, n, diag.InvalidArgument, "at least one input")
}

func TestEinsumMixedFloatTypes(t *testing.T) {
	n := NewNetwork()
	l := n.AddEinsum([]*Tensor{n.AddInput("a", Float32, Dims{2, 3}), n.AddInput("b", Float16, Dims{3})}, "ij,j->i")
	if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(Dims{2}) || l.Output(0).Type() != Float32 {
		t.Fatalf("%v %v", got, l.Output(0).Type())
	}
}
