package cpu

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// ctlSwishPlugin computes x * sigmoid(beta*x) in float32 for float inputs.
// badShape makes ExecuteCPU return a wrong shape, fail an error.
type ctlSwishPlugin struct {
	beta     float32
	badShape bool
	fail     error
}

func (p *ctlSwishPlugin) PluginName() string         { return "Swish" }
func (p *ctlSwishPlugin) PluginVersion() string      { return "2" }
func (p *ctlSwishPlugin) PluginNamespace() string    { return "trtc.test" }
func (p *ctlSwishPlugin) Attributes() map[string]any { return map[string]any{"beta": p.beta} }
func (p *ctlSwishPlugin) NbOutputs() int             { return 1 }

func (p *ctlSwishPlugin) OutputTypes(in []dsl.DataType) ([]dsl.DataType, error) {
	if len(in) != 1 || !in[0].IsFloat() {
		return nil, fmt.Errorf("want one float input, got %v", in)
	}
	return []dsl.DataType{in[0]}, nil
}

func (p *ctlSwishPlugin) OutputDims(in []dsl.Dims) ([]dsl.Dims, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("want one input, got %d", len(in))
	}
	return []dsl.Dims{in[0].Clone()}, nil
}

func (p *ctlSwishPlugin) ExecuteCPU(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if p.fail != nil {
		return nil, p.fail
	}
	x := in[0].AsFloat32()
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = v / (1 + float32(math.Exp(float64(-p.beta*v))))
	}
	shape := in[0].Shape()
	if p.badShape {
		shape = append(shape, 1)
	}
	out, err := tensor.FromFloat32s(in[0].DType(), shape, y)
	return []*tensor.Tensor{out}, err
}

func ctlSwishNet(p dsl.Plugin, dt tensor.DataType) (*dsl.Network, *dsl.Tensor) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dt, dsl.Dims{-1, 5})
	out := net.AddPluginV3([]*dsl.Tensor{x}, nil, p).Output(0)
	net.MarkOutput(out)
	return net, out
}

func TestPluginSwish(t *testing.T) {
	rng := newRNG(16)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
		net, out := ctlSwishNet(&ctlSwishPlugin{beta: 1.5}, dt)
		xt, xv := randTensor(t, rng, dt, 3, 5)
		got := runNet(t, net, map[string]*tensor.Tensor{"x": xt})[out.Name()]
		want := make([]float64, len(xv))
		for i, v := range xv {
			want[i] = v / (1 + math.Exp(-1.5*v))
		}
		checkClose(t, got, []int64{3, 5}, roundTo(dt, want), 1)
	}
}

func TestPluginReturnsWrongShape(t *testing.T) {
	net, _ := ctlSwishNet(&ctlSwishPlugin{beta: 1, badShape: true}, tensor.Float32)
	xt, _ := randTensor(t, newRNG(17), tensor.Float32, 2, 5)
	err := runErr(net, map[string]*tensor.Tensor{"x": xt})
	if !errors.Is(err, diag.InvalidNode) || !pluginErrHas(err.Error(), `plugin "Swish" version "2"`, "OutputDims gives") {
		t.Fatalf("got %v", err)
	}
}

func TestPluginExecuteError(t *testing.T) {
	net, _ := ctlSwishNet(&ctlSwishPlugin{fail: errors.New("device lost")}, tensor.Float32)
	xt, _ := randTensor(t, newRNG(18), tensor.Float32, 2, 5)
	err := runErr(net, map[string]*tensor.Tensor{"x": xt})
	if !errors.Is(err, diag.InvalidNode) || !pluginErrHas(err.Error(), "device lost", `namespace "trtc.test"`) {
		t.Fatalf("got %v", err)
	}
}

// pluginErrHas reports whether s contains every part.
func pluginErrHas(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
