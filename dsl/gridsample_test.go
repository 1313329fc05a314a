package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestGridSampleInfer(t *testing.T) {
	n := NewNetwork()
	in := n.AddInput("x", BFloat16, Dims{-1, 3, 8, 8})
	g := n.AddInput("g", BFloat16, Dims{2, 5, -1, 2})
	l := n.AddGridSample(in, g)
	n.MarkOutput(l.Output(0))
	spatialWantDims(t, l.Output(0), BFloat16, Dims{2, 3, 5, -1})
	if l.InterpolationMode() != InterpolationLinear || l.AlignCorners() || l.SampleMode() != SampleFill {
		t.Fatal("defaults differ from TensorRT's")
	}
	l.SetAlignCorners(true)
	l.SetInterpolationMode(InterpolationCubic)
	if !l.SetSampleMode(SampleReflect) || !l.AlignCorners() || l.InterpolationMode() != InterpolationCubic {
		t.Fatal("setters")
	}
	spatialWantDims(t, l.Output(0), BFloat16, Dims{2, 3, 5, -1})
	if len(AllSampleModes()) != 5 || SampleWrap.String() != "Wrap" || SampleMode(8).String() != "SampleMode(8)" {
		t.Fatal("sample mode names")
	}
}

func TestGridSampleErrors(t *testing.T) {
	cases := []struct {
		name     string
		dt, gt   DataType
		in, grid Dims
		set      func(l *GridSampleLayer)
		code     diag.Code
		frag     string
	}{
		{"wrap", Float32, Float32, Dims{1, 1, 2, 2}, Dims{1, 1, 1, 2}, func(l *GridSampleLayer) {
			if l.SetSampleMode(SampleWrap) {
				panic("wrap accepted")
			}
		}, diag.UnsupportedAttr, "Wrap is not supported"},
		{"strict", Float32, Float32, Dims{1, 1, 2, 2}, Dims{1, 1, 1, 2}, func(l *GridSampleLayer) { l.SetSampleMode(SampleStrictBounds) }, diag.UnsupportedAttr, "StrictBounds"},
		{"mode", Float32, Float32, Dims{1, 1, 2, 2}, Dims{1, 1, 1, 2}, func(l *GridSampleLayer) { l.SetInterpolationMode(7) }, diag.InvalidNode, "interpolation mode 7"},
		{"int input", Int32, Int32, Dims{1, 1, 2, 2}, Dims{1, 1, 1, 2}, nil, diag.TypeMismatch, "float input"},
		{"grid type", Float32, Float16, Dims{1, 1, 2, 2}, Dims{1, 1, 1, 2}, nil, diag.TypeMismatch, "same type"},
		{"rank", Float32, Float32, Dims{1, 2, 2}, Dims{1, 1, 1, 2}, nil, diag.ShapeMismatch, "rank-4 input"},
		{"grid last dim", Float32, Float32, Dims{1, 1, 2, 2}, Dims{1, 1, 1, 3}, nil, diag.ShapeMismatch, "(N, Hout, Wout, 2)"},
		{"batch", Float32, Float32, Dims{2, 1, 2, 2}, Dims{3, 1, 1, 2}, nil, diag.ShapeMismatch, "batch sizes differ"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNetwork()
			l := n.AddGridSample(n.AddInput("x", tc.dt, tc.in), n.AddInput("g", tc.gt, tc.grid))
			if tc.set != nil {
				tc.set(l)
			}
			n.MarkOutput(l.Output(0))
			spatialWantErr(t, n, tc.code, tc.frag)
		})
	}
}
