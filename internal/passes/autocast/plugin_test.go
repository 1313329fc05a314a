package autocast

import (
	"fmt"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/tensor"
)

// doubler is a plugin computing 2x, in float32 only or also in fp16.
type doubler struct{ fp16 bool }

func (d doubler) PluginName() string         { return "Doubler" }
func (d doubler) PluginVersion() string      { return "1" }
func (d doubler) PluginNamespace() string    { return "test" }
func (d doubler) Attributes() map[string]any { return nil }
func (d doubler) NbOutputs() int             { return 1 }
func (d doubler) OutputTypes(in []dsl.DataType) ([]dsl.DataType, error) {
	if in[0] == dsl.Float32 || d.fp16 && in[0] == dsl.Float16 {
		return in[:1], nil
	}
	return nil, fmt.Errorf("doubler takes float32%s, not %v", map[bool]string{true: " or float16"}[d.fp16], in[0])
}
func (d doubler) OutputDims(in []dsl.Dims) ([]dsl.Dims, error) { return in[:1], nil }
func (d doubler) ExecuteCPU(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	out := tensor.New(x.DType(), x.Shape()...)
	for i := int64(0); i < x.Len(); i++ {
		out.SetFloat64(i, 2*x.Float64At(i))
	}
	return []*tensor.Tensor{out}, nil
}

func pluginNet(p dsl.Plugin) *dsl.Network {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{3, 5})
	h := name(net.AddActivation(x, dsl.ActivationTanh), "tanh")
	h = name(net.AddPluginV3([]*dsl.Tensor{h}, nil, p), "double")
	y := name(net.AddActivation(h, dsl.ActivationSigmoid), "sigmoid")
	y.SetName("y")
	net.MarkOutput(y)
	return net
}

func TestPlugins(t *testing.T) {
	net := pluginNet(doubler{})
	g := autocast(t, net, ir.Options{Compute: dsl.Float16})
	wantComputes(t, g, "double", dsl.Float32, `plugin "Doubler" version "1" namespace "test" does not accept fp16; kept in fp32`)
	wantComputes(t, g, "tanh", dsl.Float16, "fp16 requested")
	agree(t, net, g.Net, dsl.Float16, 1)

	net = pluginNet(doubler{fp16: true})
	g = autocast(t, net, ir.Options{Compute: dsl.Float16})
	wantComputes(t, g, "double", dsl.Float16, "fp16 requested")
	if n := countKind(g.Net, dsl.LayerCast); n != 2 {
		t.Errorf("%d casts, want 2", n)
	}
	agree(t, net, g.Net, dsl.Float16, 1)
	// bf16 is not accepted: the plugin stays fp32 and an override to bf16
	// is refused.
	g = autocast(t, net, ir.Options{Compute: dsl.BFloat16})
	wantComputes(t, g, "double", dsl.Float32, "")
	if _, err := Autocast(ir.New(net), ir.Options{Compute: dsl.Float16, LayerPrecisions: map[string]dsl.DataType{"double": dsl.BFloat16}}); err == nil {
		t.Error("override of a plugin to a type it rejects was accepted")
	}
}

// Q/DQ layers keep their explicit types; the convolution after the
// dequantize computes in half through a cast, and the scales stay fp32.
func TestQDQKeepsExplicitTypes(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{1, 2, 6, 6})
	scale := name(net.AddConstant(dsl.Dims{}, dsl.Float32Weights(0.05)), "scale")
	q := name(net.AddQuantize(x, scale, dsl.Int8), "q")
	dq := name(net.AddDequantize(q, scale, dsl.Float32), "dq")
	w, _ := tensor.FromFloat32([]int64{3, 2, 1, 1}, []float32{0.5, -0.25, 1, 0.75, -0.5, 0.125})
	y := name(net.AddConvolutionNd(dq, 3, dsl.Dims{1, 1}, dsl.NewWeights(w), dsl.Weights{}), "conv")
	y.SetName("y")
	net.MarkOutput(y)
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	g := autocast(t, net, ir.Options{Compute: dsl.Float16})
	wantComputes(t, g, "dq", dsl.Float32, "Q/DQ layers keep their explicit types")
	wantComputes(t, g, "conv", dsl.Float16, "fp16 requested")
	if c := layerNamed(t, g.Net, "scale").(*dsl.ConstantLayer); c.Weights().Type() != dsl.Float32 {
		t.Errorf("the Q/DQ scale became %v", c.Weights().Type())
	}
	if c := layerNamed(t, g.Net, "q"); c.Input(0).Type() != dsl.Float32 {
		t.Errorf("the quantize reads %v", c.Input(0).Type())
	}
	agree(t, net, g.Net, dsl.Float16, 2)
}
