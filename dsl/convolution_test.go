package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

func TestConvolutionInfer(t *testing.T) {
	cases := []struct {
		name   string
		in     Dims
		k      int64
		ks     Dims
		groups int64
		set    func(l *ConvolutionLayer)
		want   Dims
	}{
		{"resnet stem", Dims{1, 3, 224, 224}, 64, Dims{7, 7}, 1, func(l *ConvolutionLayer) {
			l.SetStrideNd(Dims{2, 2})
			l.SetPaddingNd(Dims{3, 3})
		}, Dims{1, 64, 112, 112}},
		{"dynamic batch and spatial", Dims{-1, 8, -1, 10}, 4, Dims{3, 3}, 2, nil, Dims{-1, 4, -1, 8}},
		{"dilation", Dims{1, 2, 9, 8}, 3, Dims{3, 3}, 1, func(l *ConvolutionLayer) {
			l.SetDilationNd(Dims{2, 3})
			l.SetPrePadding(Dims{1, 0})
			l.SetPostPadding(Dims{0, 2})
		}, Dims{1, 3, 6, 4}},
		{"round up", Dims{1, 2, 6, 7}, 2, Dims{3, 3}, 1, func(l *ConvolutionLayer) {
			l.SetStrideNd(Dims{2, 2})
			l.SetPaddingMode(PaddingExplicitRoundUp)
		}, Dims{1, 2, 3, 3}},
		{"same upper ignores explicit padding", Dims{1, 2, 7, -1}, 2, Dims{3, 3}, 1, func(l *ConvolutionLayer) {
			l.SetStrideNd(Dims{2, 2})
			l.SetPaddingNd(Dims{5, 5})
			l.SetPaddingMode(PaddingSameUpper)
		}, Dims{1, 2, 4, -1}},
		{"padding larger than kernel", Dims{1, 1, 3, 3}, 1, Dims{2, 2}, 1, func(l *ConvolutionLayer) {
			l.SetPaddingNd(Dims{4, 4})
		}, Dims{1, 1, 10, 10}},
		{"3d", Dims{2, 4, 4, 5, 3}, 6, Dims{2, 3, 2}, 2, func(l *ConvolutionLayer) {
			l.SetStrideNd(Dims{1, 2, 1})
			l.SetPrePadding(Dims{1, 1, 0})
			l.SetPostPadding(Dims{0, 1, 1})
		}, Dims{2, 6, 4, 3, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNetwork()
			in := n.AddInput("x", Float16, tc.in)
			l := n.AddConvolutionNd(in, tc.k, tc.ks, spatialZeros(tc.k*tc.in[1]/tc.groups*tc.ks.Volume()), spatialZeros(tc.k))
			l.SetNbGroups(tc.groups)
			if tc.set != nil {
				tc.set(l)
			}
			n.MarkOutput(l.Output(0))
			spatialWantDims(t, l.Output(0), Float16, tc.want)
		})
	}
}

func TestConvolutionGettersAndGeometry(t *testing.T) {
	n := NewNetwork()
	in := n.AddInput("x", Float32, Dims{1, 2, 6, 8})
	l := n.AddConvolutionNd(in, 2, Dims{5, 3}, spatialZeros(2*2*15), Weights{})
	l.SetStrideNd(Dims{2, 2})
	l.SetPaddingMode(PaddingSameLower)
	if l.NbOutputMaps() != 2 || l.NbGroups() != 1 || !l.KernelSizeNd().Equal(Dims{5, 3}) || !l.DilationNd().Equal(Dims{1, 1}) ||
		!l.StrideNd().Equal(Dims{2, 2}) || l.PaddingMode() != PaddingSameLower || l.KernelWeights().Count() != 60 || !l.BiasWeights().IsEmpty() {
		t.Fatal("getters disagree with the setters")
	}
	// SAME_LOWER: P = floor((I-1)/S)*S + DK - I: 6 -> 3, 8 -> 1; the odd element goes before.
	g := l.Geometry(Dims{6, 8})
	if !g.Out.Equal(Dims{3, 4}) || !g.Pre.Equal(Dims{2, 1}) || !g.Post.Equal(Dims{1, 0}) {
		t.Fatalf("geometry %+v", g)
	}
	l.SetPaddingMode(PaddingSameUpper)
	g = l.Geometry(Dims{6, 8})
	if !g.Pre.Equal(Dims{1, 0}) || !g.Post.Equal(Dims{2, 1}) {
		t.Fatalf("same upper geometry %+v", g)
	}
	l.SetPaddingMode(PaddingExplicitRoundDown)
	l.SetPaddingNd(Dims{1, 2})
	if !l.PaddingNd().Equal(Dims{1, 2}) || !l.PrePadding().Equal(Dims{1, 2}) || !l.PostPadding().Equal(Dims{1, 2}) {
		t.Fatal("SetPaddingNd is not symmetric")
	}
}

func TestConvolutionTensorInputsInfer(t *testing.T) {
	n := NewNetwork()
	in := n.AddInput("x", Float32, Dims{1, 4, 5, 5})
	w := n.AddInput("w", Float32, Dims{6, 2, 3, 3})
	b := n.AddInput("b", Float32, Dims{6})
	l := n.AddConvolutionNd(in, 6, Dims{3, 3}, Weights{}, Weights{})
	l.SetNbGroups(2)
	l.SetInput(1, w)
	l.SetInput(2, b)
	n.MarkOutput(l.Output(0))
	spatialWantDims(t, l.Output(0), Float32, Dims{1, 6, 3, 3})
}

func TestConvolutionErrors(t *testing.T) {
	half, _ := tensor.FromFloat32s(Float16, []int64{8}, make([]float32, 8))
	cases := []struct {
		name  string
		dt    DataType
		in    Dims
		build func(n *Network, in *Tensor) *ConvolutionLayer
		code  diag.Code
		frag  string
	}{
		{"int input", Int32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			return n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(1), Weights{})
		}, diag.TypeMismatch, "needs a float input"},
		{"int8 input", Int8, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			return n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(1), Weights{})
		}, diag.TypeMismatch, "Dequantize"},
		{"1-d kernel", Float32, Dims{1, 1, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			return n.AddConvolutionNd(in, 1, Dims{3}, spatialZeros(3), Weights{})
		}, diag.InvalidNode, "2 or 3 spatial dims"},
		{"rank", Float32, Dims{1, 1, 4, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			return n.AddConvolutionNd(in, 1, Dims{3, 3}, spatialZeros(9), Weights{})
		}, diag.ShapeMismatch, "needs a rank-4 input"},
		{"dynamic channels", Float32, Dims{1, -1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			return n.AddConvolutionNd(in, 1, Dims{3, 3}, spatialZeros(9), Weights{})
		}, diag.ShapeMismatch, "must be static"},
		{"zero maps", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			return n.AddConvolutionNd(in, 0, Dims{3, 3}, Weights{}, Weights{})
		}, diag.InvalidNode, "output maps is 0"},
		{"zero groups", Float32, Dims{1, 2, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 2, Dims{1, 1}, spatialZeros(4), Weights{})
			l.SetNbGroups(0)
			return l
		}, diag.InvalidNode, "groups is 0"},
		{"channels not divisible", Float32, Dims{1, 3, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 2, Dims{1, 1}, spatialZeros(3), Weights{})
			l.SetNbGroups(2)
			return l
		}, diag.ShapeMismatch, "input channels 3"},
		{"maps not divisible", Float32, Dims{1, 4, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 3, Dims{1, 1}, spatialZeros(6), Weights{})
			l.SetNbGroups(2)
			return l
		}, diag.ShapeMismatch, "output maps 3"},
		{"kernel count", Float32, Dims{1, 2, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			return n.AddConvolutionNd(in, 3, Dims{3, 3}, spatialZeros(17), Weights{})
		}, diag.InvalidNode, "kernel weights have 17 values, want 54"},
		{"bias count", Float32, Dims{1, 2, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			return n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(2), spatialZeros(2))
		}, diag.InvalidNode, "bias weights have 2 values, want 1"},
		{"kernel type", Float32, Dims{1, 2, 2, 2}, func(n *Network, in *Tensor) *ConvolutionLayer {
			return n.AddConvolutionNd(in, 4, Dims{1, 1}, NewWeights(half), Weights{})
		}, diag.TypeMismatch, "kernel weights are float16"},
		{"bias type", Float32, Dims{1, 1, 2, 2}, func(n *Network, in *Tensor) *ConvolutionLayer {
			return n.AddConvolutionNd(in, 8, Dims{1, 1}, spatialZeros(8), NewWeights(half))
		}, diag.TypeMismatch, "bias weights are float16"},
		{"stride rank", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(1), Weights{})
			l.SetStrideNd(Dims{1})
			return l
		}, diag.InvalidNode, "stride 1 has 1 dims"},
		{"zero stride", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(1), Weights{})
			l.SetStrideNd(Dims{1, 0})
			return l
		}, diag.InvalidNode, "stride"},
		{"negative padding", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(1), Weights{})
			l.SetPrePadding(Dims{0, -1})
			return l
		}, diag.InvalidNode, "pre-padding"},
		{"zero dilation", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(1), Weights{})
			l.SetDilationNd(Dims{0, 1})
			return l
		}, diag.InvalidNode, "dilation"},
		{"bad mode", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(1), Weights{})
			l.SetPaddingMode(PaddingMode(7))
			return l
		}, diag.InvalidNode, "unknown padding mode 7"},
		{"kernel too large", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{3, 3}, spatialZeros(9), Weights{})
			l.SetDilationNd(Dims{2, 1})
			return l
		}, diag.ShapeMismatch, "does not fit spatial dim 0"},
		{"kernel tensor and weights", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(1), Weights{})
			l.SetInput(1, n.AddInput("w", Float32, Dims{1, 1, 1, 1}))
			return l
		}, diag.InvalidNode, "kernel weights must be empty"},
		{"kernel tensor dims", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{1, 1}, Weights{}, Weights{})
			l.SetInput(1, n.AddInput("w", Float32, Dims{1, 2, 1, 1}))
			return l
		}, diag.ShapeMismatch, "want 1x1x1x1"},
		{"kernel tensor type", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{1, 1}, Weights{}, Weights{})
			l.SetInput(1, n.AddInput("w", Float16, Dims{1, 1, 1, 1}))
			return l
		}, diag.TypeMismatch, "same type"},
		{"bias tensor and weights", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(1), spatialZeros(1))
			l.SetInput(2, n.AddInput("b", Float32, Dims{1}))
			return l
		}, diag.InvalidNode, "bias weights must be empty"},
		{"bias tensor size", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(1), Weights{})
			l.SetInput(2, n.AddInput("b", Float32, Dims{3}))
			return l
		}, diag.ShapeMismatch, "want 1 values"},
		{"bias tensor type", Float32, Dims{1, 1, 4, 4}, func(n *Network, in *Tensor) *ConvolutionLayer {
			l := n.AddConvolutionNd(in, 1, Dims{1, 1}, spatialZeros(1), Weights{})
			l.SetInput(2, n.AddInput("b", Float16, Dims{1}))
			return l
		}, diag.TypeMismatch, "same type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNetwork()
			in := n.AddInput("x", tc.dt, tc.in)
			l := tc.build(n, in)
			n.MarkOutput(l.Output(0))
			spatialWantErr(t, n, tc.code, tc.frag)
		})
	}
}
