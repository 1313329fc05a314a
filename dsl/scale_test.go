package dsl

import (
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

func TestScaleInfer(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float16, Dims{-1, 3, 4, 5})
	l := n.AddScale(x, ScaleChannel, Float32Weights(1, 2, 3), Weights{}, Weights{})
	if o := l.Output(0); o.Type() != Float16 || !o.Dims().Equal(Dims{-1, 3, 4, 5}) {
		t.Fatalf("%v", o)
	}
	if l.ChannelAxis() != 1 || l.Mode() != ScaleChannel {
		t.Fatalf("axis %d", l.ChannelAxis())
	}
	l.SetMode(ScaleElementwise)
	l.SetChannelAxis(2)
	l.SetShift(Float32Weights(make([]float32, 20)...))
	n.MarkOutput(l.Output(0))
	if err := n.Err(); err != nil {
		t.Fatal(err)
	}
	// A dynamic channel dim defers the count check to run time.
	y := n.AddInput("y", Float32, Dims{1, -1, 2, 2})
	n.MarkOutput(n.AddScaleNd(y, ScaleChannel, Float32Weights(1, 2, 3), Weights{}, Weights{}, 1).Output(0))
	if err := n.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestScaleErrors(t *testing.T) {
	h := NewWeights(tensor.New(tensor.Float16, 1))
	i := Int32Weights(1)
	cases := []struct {
		name  string
		dt    DataType
		d     Dims
		mode  ScaleMode
		axis  int
		w     Weights
		shift Weights
		code  diag.Code
		text  string
	}{
		{"int input", Int32, Dims{1, 2, 3, 4}, ScaleUniform, 1, Weights{}, Weights{}, diag.TypeMismatch, "needs a float input"},
		{"rank 3", Float32, Dims{2, 3, 4}, ScaleUniform, 1, Weights{}, Weights{}, diag.ShapeMismatch, "rank >= 4"},
		{"axis", Float32, Dims{1, 2, 3, 4}, ScaleChannel, 4, Float32Weights(1), Weights{}, diag.InvalidNode, "channel axis 4 is out of range [0, 4)"},
		{"negative axis", Float32, Dims{1, 2, 3, 4}, ScaleChannel, -1, Float32Weights(1), Weights{}, diag.InvalidNode, "channel axis -1"},
		{"uniform count", Float32, Dims{1, 2, 3, 4}, ScaleUniform, 1, Float32Weights(1, 2), Weights{}, diag.ShapeMismatch, "has 2 weights; Uniform mode"},
		{"channel count", Float32, Dims{1, 2, 3, 4}, ScaleChannel, 1, Float32Weights(1, 2, 3), Weights{}, diag.ShapeMismatch, "needs 2"},
		{"elementwise count", Float32, Dims{1, 2, 3, 4}, ScaleElementwise, 2, Float32Weights(1, 2, 3), Weights{}, diag.ShapeMismatch, "needs 12"},
		{"half weights on float32", Float32, Dims{1, 2, 3, 4}, ScaleUniform, 1, Weights{}, h, diag.TypeMismatch, "shift weights are float16; they must be float32"},
		{"int weights", Float16, Dims{1, 2, 3, 4}, ScaleUniform, 1, i, Weights{}, diag.TypeMismatch, "scale weights are int32"},
		{"bad mode", Float32, Dims{1, 2, 3, 4}, ScaleMode(3), 1, Weights{}, Weights{}, diag.InvalidNode, "unknown scale mode 3"},
	}
	for _, c := range cases {
		n := NewNetwork()
		x := n.AddInput("x", c.dt, c.d)
		n.MarkOutput(n.AddScaleNd(x, c.mode, c.shift, c.w, Weights{}, c.axis).Output(0))
		t.Run(c.name, func(t *testing.T) { pointwiseWantErr(t, n, c.code, c.text) })
	}
}
