package dsl

import (
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestPoolingInfer(t *testing.T) {
	n := NewNetwork()
	in := n.AddInput("x", BFloat16, Dims{-1, 64, 112, -1})
	l := n.AddPoolingNd(in, PoolingMax, Dims{3, 3})
	l.SetStrideNd(Dims{2, 2})
	l.SetPaddingNd(Dims{1, 1})
	n.MarkOutput(l.Output(0))
	spatialWantDims(t, l.Output(0), BFloat16, Dims{-1, 64, 56, -1})
	if !l.AverageCountExcludesPadding() || l.BlendFactor() != 0 || l.PoolingType() != PoolingMax || !l.WindowSizeNd().Equal(Dims{3, 3}) {
		t.Fatal("defaults differ from TensorRT's")
	}
	l.SetWindowSizeNd(Dims{2, 2, 2})
	l.SetStrideNd(Dims{2, 2, 2})
	l.SetPaddingNd(Dims{0, 0, 0})
	in.SetDims(Dims{1, 2, 4, 6, 5})
	l.SetPaddingMode(PaddingExplicitRoundUp)
	spatialWantDims(t, l.Output(0), BFloat16, Dims{1, 2, 2, 3, 3})
	l.SetPoolingType(PoolingMaxAverageBlend)
	l.SetBlendFactor(0.5)
	l.SetAverageCountExcludesPadding(false)
	l.SetPaddingMode(PaddingSameLower)
	spatialWantDims(t, l.Output(0), BFloat16, Dims{1, 2, 2, 3, 3})
	if g := l.Geometry(Dims{4, 6, 5}); !g.Pre.Equal(Dims{0, 0, 1}) || !g.Post.Equal(Dims{0, 0, 0}) {
		t.Fatalf("geometry %+v", g)
	}
	for _, p := range AllPoolingTypes() {
		if p.String() == "" || PoolingType(5).String() != "PoolingType(5)" {
			t.Fatal("names")
		}
	}
}

func TestPoolingErrors(t *testing.T) {
	cases := []struct {
		name string
		dt   DataType
		in   Dims
		set  func(l *PoolingLayer)
		code diag.Code
		frag string
	}{
		{"int input", Int32, Dims{1, 1, 4, 4}, nil, diag.TypeMismatch, "float input"},
		{"type", Float32, Dims{1, 1, 4, 4}, func(l *PoolingLayer) { l.SetPoolingType(PoolingType(9)) }, diag.InvalidNode, "unknown pooling type 9"},
		{"blend", Float32, Dims{1, 1, 4, 4}, func(l *PoolingLayer) { l.SetBlendFactor(1.5) }, diag.InvalidNode, "blend factor 1.5"},
		{"blend nan", Float32, Dims{1, 1, 4, 4}, func(l *PoolingLayer) { l.SetBlendFactor(float32(math.NaN())) }, diag.InvalidNode, "blend factor"},
		{"1-d", Float32, Dims{1, 1, 4}, func(l *PoolingLayer) { l.SetWindowSizeNd(Dims{2}) }, diag.InvalidNode, "2 or 3 spatial dims"},
		{"rank", Float32, Dims{1, 4, 4}, nil, diag.ShapeMismatch, "needs a rank-4 input"},
		{"window zero", Float32, Dims{1, 1, 4, 4}, func(l *PoolingLayer) { l.SetWindowSizeNd(Dims{0, 2}) }, diag.InvalidNode, "window size"},
		{"stride", Float32, Dims{1, 1, 4, 4}, func(l *PoolingLayer) { l.SetStrideNd(Dims{2}) }, diag.InvalidNode, "stride 2 has 1 dims"},
		{"too large", Float32, Dims{1, 1, 1, 4}, nil, diag.ShapeMismatch, "does not fit spatial dim 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNetwork()
			in := n.AddInput("x", tc.dt, tc.in)
			l := n.AddPoolingNd(in, PoolingAverage, Dims{2, 2})
			if tc.set != nil {
				tc.set(l)
			}
			n.MarkOutput(l.Output(0))
			spatialWantErr(t, n, tc.code, tc.frag)
		})
	}
}
