package dsl

import (
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestPaddingInfer(t *testing.T) {
	n := NewNetwork()
	in := n.AddInput("x", Int8, Dims{2, 3, 5, -1})
	l := n.AddPaddingNd(in, Dims{1, -2}, Dims{-3, 4})
	n.MarkOutput(l.Output(0))
	spatialWantDims(t, l.Output(0), Int8, Dims{2, 3, 3, -1})
	l.SetPrePaddingNd(Dims{0, 0})
	l.SetPostPaddingNd(Dims{0, 1})
	in.SetDims(Dims{1, 2, 3, 4, 5})
	spatialWantDims(t, l.Output(0), Int8, Dims{1, 2, 3, 4, 6})
	if !l.PrePaddingNd().Equal(Dims{0, 0}) || !l.PostPaddingNd().Equal(Dims{0, 1}) {
		t.Fatal("getters")
	}
}

func TestPaddingErrors(t *testing.T) {
	cases := []struct {
		name      string
		dt        DataType
		in        Dims
		pre, post Dims
		code      diag.Code
		frag      string
	}{
		{"3 dims", Float32, Dims{1, 1, 4, 4}, Dims{1, 1, 1}, Dims{1, 1, 1}, diag.UnsupportedAttr, "two innermost dims"},
		{"rank", Float32, Dims{4, 4, 4}, Dims{1, 1}, Dims{1, 1}, diag.ShapeMismatch, "rank 4 or more"},
		{"over-crop", Float32, Dims{1, 1, 4, 4}, Dims{0, -3}, Dims{0, -2}, diag.ShapeMismatch, "output size would be -1"},
		{"int4", Int4, Dims{1, 1, 4, 4}, Dims{0, 0}, Dims{0, 0}, diag.TypeMismatch, "int4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNetwork()
			l := n.AddPaddingNd(n.AddInput("x", tc.dt, tc.in), tc.pre, tc.post)
			n.MarkOutput(l.Output(0))
			spatialWantErr(t, n, tc.code, tc.frag)
		})
	}
}

func TestLRNInferAndErrors(t *testing.T) {
	n := NewNetwork()
	in := n.AddInput("x", Float16, Dims{-1, 8, 4})
	l := n.AddLRN(in, 5, 1e-4, 0.75, 1)
	n.MarkOutput(l.Output(0))
	spatialWantDims(t, l.Output(0), Float16, Dims{-1, 8, 4})
	if l.WindowSize() != 5 || l.Alpha() != 1e-4 || l.Beta() != 0.75 || l.K() != 1 {
		t.Fatal("getters")
	}
	nan := float32(math.NaN())
	cases := []struct {
		name string
		dt   DataType
		in   Dims
		set  func(l *LRNLayer)
		code diag.Code
		frag string
	}{
		{"even window", Float32, Dims{1, 4, 4}, func(l *LRNLayer) { l.SetWindowSize(4) }, diag.InvalidNode, "window size 4"},
		{"big window", Float32, Dims{1, 4, 4}, func(l *LRNLayer) { l.SetWindowSize(17) }, diag.InvalidNode, "window size 17"},
		{"alpha", Float32, Dims{1, 4, 4}, func(l *LRNLayer) { l.SetAlpha(nan) }, diag.InvalidNode, "alpha"},
		{"beta", Float32, Dims{1, 4, 4}, func(l *LRNLayer) { l.SetBeta(0) }, diag.InvalidNode, "beta 0"},
		{"k", Float32, Dims{1, 4, 4}, func(l *LRNLayer) { l.SetK(0) }, diag.InvalidNode, "k 0"},
		{"type", Int32, Dims{1, 4, 4}, nil, diag.TypeMismatch, "float input"},
		{"rank", Float32, Dims{4, 4}, nil, diag.ShapeMismatch, "rank 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNetwork()
			l := n.AddLRN(n.AddInput("x", tc.dt, tc.in), 3, 1, 1, 1)
			if tc.set != nil {
				tc.set(l)
			}
			n.MarkOutput(l.Output(0))
			spatialWantErr(t, n, tc.code, tc.frag)
		})
	}
}
