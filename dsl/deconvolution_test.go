package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestDeconvolutionInfer(t *testing.T) {
	n := NewNetwork()
	in := n.AddInput("x", Float32, Dims{-1, 4, 3, -1})
	l := n.AddDeconvolutionNd(in, 6, Dims{3, 3}, spatialZeros(4*3*9), spatialZeros(6))
	l.SetNbGroups(2)
	l.SetStrideNd(Dims{2, 2})
	n.MarkOutput(l.Output(0))
	// O = (I-1)*S + DK - (B+A)
	spatialWantDims(t, l.Output(0), Float32, Dims{-1, 6, 7, -1})
	l.SetPrePadding(Dims{1, 0})
	l.SetPostPadding(Dims{0, 2})
	l.SetDilationNd(Dims{2, 1})
	spatialWantDims(t, l.Output(0), Float32, Dims{-1, 6, 8, -1})
	// SAME: O = min(I*S, (I-1)*S + DK), P = max(DK-S, 0).
	l.SetPaddingMode(PaddingSameUpper)
	in.SetDims(Dims{1, 4, 3, 4})
	spatialWantDims(t, l.Output(0), Float32, Dims{1, 6, 6, 8})
	if g := l.Geometry(Dims{3, 4}); !g.Pre.Equal(Dims{1, 0}) || !g.Post.Equal(Dims{2, 1}) {
		t.Fatalf("same upper geometry %+v", g)
	}
	l.SetPaddingMode(PaddingSameLower)
	if g := l.Geometry(Dims{3, 4}); !g.Pre.Equal(Dims{2, 1}) || !g.Post.Equal(Dims{1, 0}) {
		t.Fatalf("same lower geometry %+v", g)
	}
}

func TestDeconvolutionErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(n *Network, in *Tensor) *DeconvolutionLayer
		code  diag.Code
		frag  string
	}{
		{"kernel count uses CKRS", func(n *Network, in *Tensor) *DeconvolutionLayer {
			l := n.AddDeconvolutionNd(in, 4, Dims{2, 2}, spatialZeros(4*4*4), Weights{})
			l.SetNbGroups(2)
			return l
		}, diag.InvalidNode, "want 32 (4x2x2x2)"},
		{"crop everything", func(n *Network, in *Tensor) *DeconvolutionLayer {
			l := n.AddDeconvolutionNd(in, 1, Dims{2, 2}, spatialZeros(4*4), Weights{})
			l.SetPaddingNd(Dims{3, 0})
			return l
		}, diag.ShapeMismatch, "does not fit spatial dim 0"},
		{"kernel tensor", func(n *Network, in *Tensor) *DeconvolutionLayer {
			l := n.AddDeconvolutionNd(in, 2, Dims{2, 2}, Weights{}, Weights{})
			l.SetInput(1, n.AddInput("w", Float32, Dims{2, 4, 2, 2}))
			return l
		}, diag.ShapeMismatch, "want 4x2x2x2"},
		{"3 spatial dims needs rank 5", func(n *Network, in *Tensor) *DeconvolutionLayer {
			return n.AddDeconvolutionNd(in, 2, Dims{2, 2, 2}, spatialZeros(64), Weights{})
		}, diag.ShapeMismatch, "rank-5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNetwork()
			in := n.AddInput("x", Float32, Dims{1, 4, 2, 2})
			l := tc.build(n, in)
			n.MarkOutput(l.Output(0))
			spatialWantErr(t, n, tc.code, tc.frag)
		})
	}
}
