package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestTopKDims(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float16, Dims{-1, 10, 6})
	l := n.AddTopK(x, TopKMin, 3, 0b010)
	if l.IndicesType() != Int32 {
		t.Fatalf("default indices type %v", l.IndicesType())
	}
	n.MarkOutput(l.Output(1))
	if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(Dims{-1, 3, 6}) || l.Output(0).Type() != Float16 {
		t.Fatalf("values %v %v", got, l.Output(0).Type())
	}
	if !l.SetIndicesType(Int64) || l.Output(1).Type() != Int64 || !l.Output(1).Dims().Equal(Dims{-1, 3, 6}) {
		t.Fatalf("indices %v %v", l.Output(1).Type(), l.Output(1).Dims())
	}
}

func TestTopKDynamicK(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float32, Dims{4, 10})
	l := n.AddTopK(x, TopKMax, 2, 0b10)
	l.SetInput(1, n.AddInput("k", Int32, Dims{}))
	n.MarkOutput(l.Output(1))
	if got := linalgWantOK(t, n, l.Output(0)); !got.Equal(Dims{4, -1}) || l.K() != -1 {
		t.Fatalf("dims %v k %d", got, l.K())
	}
	// A known k value gives static dims.
	n2 := NewNetwork()
	l2 := n2.AddTopK(n2.AddInput("x", Float32, Dims{4, 10}), TopKMax, 2, 0b10)
	k := n2.AddInput("k", Int32, Dims{})
	k.values = []int64{5} // as a Constant would record
	l2.SetInput(1, k)
	if got := l2.Output(0).Dims(); !got.Equal(Dims{4, 5}) {
		t.Fatalf("dims %v", got)
	}
	// SetK drops the k input.
	l2.SetK(7)
	if l2.K() != 7 || l2.NbInputs() != 1 || !l2.Output(0).Dims().Equal(Dims{4, 7}) {
		t.Fatalf("after SetK: k %d inputs %d dims %v", l2.K(), l2.NbInputs(), l2.Output(0).Dims())
	}
}

func TestTopKErrors(t *testing.T) {
	cases := []struct {
		name string
		dt   DataType
		dims Dims
		k    int
		axes uint32
		code diag.Code
		frag string
	}{
		{"k too large", Float32, Dims{2, 5}, 6, 2, diag.InvalidNode, "only 5 elements"},
		{"k zero", Float32, Dims{2, 5}, 0, 2, diag.InvalidNode, "must be >= 1"},
		{"k over limit", Float32, Dims{2, 5000}, 4000, 2, diag.UnsupportedAttr, "up to 3840"},
		{"two axes", Float32, Dims{2, 5}, 1, 3, diag.InvalidNode, "exactly one axis"},
		{"axis not in last four", Float32, Dims{2, 2, 2, 2, 2}, 1, 1, diag.InvalidNode, "last four axes"},
		{"bool", Bool, Dims{2, 5}, 1, 2, diag.TypeMismatch, "TopK takes"},
		{"unknown op", Float32, Dims{2, 5}, 1, 2, diag.InvalidNode, "unknown TopK operation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNetwork()
			op := TopKMax
			if c.name == "unknown op" {
				op = TopKOperation(5)
			}
			l := n.AddTopK(n.AddInput("x", c.dt, c.dims), op, c.k, c.axes)
			n.MarkOutput(l.Output(0))
			n.MarkOutput(l.Output(1))
			linalgWantErr(t, n, c.code, c.frag)
		})
	}
}

func TestTopKBadKInputAndIndicesType(t *testing.T) {
	n := NewNetwork()
	l := n.AddTopK(n.AddInput("x", Float32, Dims{2, 5}), TopKMax, 1, 2)
	l.SetInput(1, n.AddInput("k", Int64, Dims{1}))
	n.MarkOutput(l.Output(0))
	n.MarkOutput(l.Output(1))
	linalgWantErr(t, n, diag.TypeMismatch, "scalar Int32")

	n = NewNetwork()
	l = n.AddTopK(n.AddInput("x", Float32, Dims{2, 5}), TopKMax, 1, 2)
	if l.SetIndicesType(Float32) || l.IndicesType() != Int32 {
		t.Fatal("SetIndicesType(Float32) accepted")
	}
	n.MarkOutput(l.Output(0))
	n.MarkOutput(l.Output(1))
	if err := n.Err(); err == nil {
		t.Fatal("no error for SetIndicesType(Float32)")
	}
}
