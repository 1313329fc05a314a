package dsl

import (
	"math"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestResizeInfer(t *testing.T) {
	n := NewNetwork()
	in := n.AddInput("x", Float16, Dims{-1, 3, 5, 7})
	l := n.AddResize(in)
	l.SetScales([]float32{1, 1, 2, 1.5})
	n.MarkOutput(l.Output(0))
	spatialWantDims(t, l.Output(0), Float16, Dims{-1, 3, 10, 10})
	if s := l.Scales(); len(s) != 4 || s[3] != 1.5 {
		t.Fatalf("scales %v", s)
	}
	l.SetOutputDimensions(Dims{2, 3, 4, 4})
	spatialWantDims(t, l.Output(0), Float16, Dims{2, 3, 4, 4})
	if l.Scales() != nil || !l.OutputDimensions().Equal(Dims{2, 3, 4, 4}) {
		t.Fatal("SetOutputDimensions must replace the scales")
	}
	if l.ResizeMode() != InterpolationNearest || l.CoordinateTransformation() != ResizeAsymmetric ||
		l.SelectorForSinglePixel() != ResizeSelectorFormula || l.NearestRounding() != ResizeRoundFloor ||
		l.CubicCoeff() != -0.75 || l.ExcludeOutside() {
		t.Fatal("defaults differ from TensorRT's")
	}
	// Input 1 with unknown values: every dim dynamic.
	size := n.AddInput("size", Int32, Dims{4})
	l.SetInput(1, size)
	spatialWantDims(t, l.Output(0), Float16, Dims{-1, -1, -1, -1})
	// Input 1 with known values (a shape computed at build time).
	n2 := NewNetwork()
	x2 := n2.AddInput("x", Float32, Dims{1, 2, 3})
	s2 := n2.AddInput("s", Int64, Dims{3})
	s2.values = []int64{1, 2, 6}
	l2 := n2.AddResize(x2)
	l2.SetInput(1, s2)
	n2.MarkOutput(l2.Output(0))
	spatialWantDims(t, l2.Output(0), Float32, Dims{1, 2, 6})
}

func TestResizeEnumNames(t *testing.T) {
	var names []string
	for _, m := range AllInterpolationModes() {
		names = append(names, m.String())
	}
	for _, m := range AllResizeCoordinateTransformations() {
		names = append(names, m.String())
	}
	for _, m := range AllResizeSelectors() {
		names = append(names, m.String())
	}
	for _, m := range AllResizeRoundModes() {
		names = append(names, m.String())
	}
	names = append(names, InterpolationMode(7).String(), ResizeCoordinateTransformation(7).String(), ResizeSelector(7).String(), ResizeRoundMode(7).String())
	got := strings.Join(names, ",")
	want := "Nearest,Linear,Cubic,AlignCorners,Asymmetric,HalfPixel,Formula,Upper,HalfUp,HalfDown,Floor,Ceil,InterpolationMode(7),ResizeCoordinateTransformation(7),ResizeSelector(7),ResizeRoundMode(7)"
	if got != want {
		t.Fatalf("names %s", got)
	}
}

func TestResizeErrors(t *testing.T) {
	cases := []struct {
		name string
		dt   DataType
		in   Dims
		set  func(n *Network, l *ResizeLayer)
		code diag.Code
		frag string
	}{
		{"no size", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) {}, diag.InvalidNode, "no output size"},
		{"int input", Int32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetOutputDimensions(Dims{1, 8}) }, diag.TypeMismatch, "float input"},
		{"scalar", Float32, Dims{}, func(n *Network, l *ResizeLayer) { l.SetOutputDimensions(Dims{}) }, diag.ShapeMismatch, "scalar"},
		{"dims rank", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetOutputDimensions(Dims{8}) }, diag.InvalidNode, "have 1 dims"},
		{"negative dims", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetOutputDimensions(Dims{1, -1}) }, diag.InvalidNode, "negative"},
		{"scales count", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetScales([]float32{2}) }, diag.InvalidNode, "1 scales"},
		{"scale zero", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetScales([]float32{1, 0}) }, diag.InvalidNode, "scale 1 is 0"},
		{"scale inf", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetScales([]float32{1, float32(math.Inf(1))}) }, diag.InvalidNode, "positive and finite"},
		{"linear 4 dims", Float32, Dims{2, 2, 2, 2}, func(n *Network, l *ResizeLayer) {
			l.SetResizeMode(InterpolationLinear)
			l.SetOutputDimensions(Dims{4, 2, 2, 2})
		}, diag.UnsupportedAttr, "last 3 dims"},
		{"cubic 3 dims", Float32, Dims{2, 2, 2}, func(n *Network, l *ResizeLayer) {
			l.SetResizeMode(InterpolationCubic)
			l.SetScales([]float32{2, 1, 1})
		}, diag.UnsupportedAttr, "last 2 dims"},
		{"shape type", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetInput(1, n.AddInput("s", Float32, Dims{2})) }, diag.TypeMismatch, "Int32 or Int64"},
		{"shape length", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetInput(1, n.AddInput("s", Int32, Dims{3})) }, diag.ShapeMismatch, "1-D tensor of 2 values"},
		{"mode", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetResizeMode(InterpolationMode(5)) }, diag.InvalidNode, "interpolation mode 5"},
		{"transform", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetCoordinateTransformation(9) }, diag.InvalidNode, "coordinate transformation 9"},
		{"selector", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetSelectorForSinglePixel(9) }, diag.InvalidNode, "selector 9"},
		{"round", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetNearestRounding(9) }, diag.InvalidNode, "rounding mode 9"},
		{"cubic coeff", Float32, Dims{1, 4}, func(n *Network, l *ResizeLayer) { l.SetCubicCoeff(float32(math.NaN())) }, diag.InvalidNode, "not finite"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNetwork()
			l := n.AddResize(n.AddInput("x", tc.dt, tc.in))
			tc.set(n, l)
			n.MarkOutput(l.Output(0))
			spatialWantErr(t, n, tc.code, tc.frag)
		})
	}
}
