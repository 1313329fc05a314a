package dsl

import (
	"errors"
	"fmt"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

// ctlPairMax is a test plugin: the elementwise max of two same-shape float
// inputs, plus (when twoOut) their elementwise min.
type ctlPairMax struct {
	twoOut  bool
	dimsErr error
	types   []DataType // forced output types, if set
}

func (p *ctlPairMax) PluginName() string         { return "PairMax" }
func (p *ctlPairMax) PluginVersion() string      { return "1" }
func (p *ctlPairMax) PluginNamespace() string    { return "test" }
func (p *ctlPairMax) Attributes() map[string]any { return map[string]any{"two_outputs": p.twoOut} }
func (p *ctlPairMax) NbOutputs() int {
	if p.twoOut {
		return 2
	}
	return 1
}

func (p *ctlPairMax) OutputTypes(in []DataType) ([]DataType, error) {
	if p.types != nil {
		return p.types, nil
	}
	if len(in) != 2 || in[0] != in[1] || !in[0].IsFloat() {
		return nil, fmt.Errorf("want two inputs of one float type, got %v", in)
	}
	out := []DataType{in[0]}
	if p.twoOut {
		out = append(out, in[0])
	}
	return out, nil
}

func (p *ctlPairMax) OutputDims(in []Dims) ([]Dims, error) {
	if p.dimsErr != nil {
		return nil, p.dimsErr
	}
	if len(in) != 2 || !recurrenceDimsCompatible(in[0], in[1]) {
		return nil, fmt.Errorf("inputs %v do not have one shape", in)
	}
	d := in[0].Clone()
	for i := range d {
		if d[i] < 0 {
			d[i] = in[1][i]
		}
	}
	out := []Dims{d}
	if p.twoOut {
		out = append(out, d)
	}
	return out, nil
}

func (p *ctlPairMax) ExecuteCPU(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return nil, errors.New("not used by dsl tests")
}

func TestPluginInference(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float16, Dims{-1, 4})
	b := n.AddInput("b", Float16, Dims{3, 4})
	l := n.AddPluginV3([]*Tensor{a, b}, nil, &ctlPairMax{twoOut: true})
	n.MarkOutput(l.Output(0))
	n.MarkOutput(l.Output(1))
	ctlWantClean(t, n)
	if l.NbOutputs() != 2 || l.Output(1).Type() != Float16 || !l.Output(0).Dims().Equal(Dims{3, 4}) {
		t.Fatalf("outputs %v %v", l.Output(0), l.Output(1))
	}
	if l.Plugin().PluginName() != "PairMax" || l.Type() != LayerPlugin || l.NbShapeInputs() != 0 {
		t.Fatalf("plugin layer %v", l)
	}
}

func TestPluginTypeError(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Int32, Dims{4})
	n.MarkOutput(n.AddPluginV3([]*Tensor{a, a}, nil, &ctlPairMax{}).Output(0))
	ctlWantProblem(t, n, diag.InvalidNode, `plugin "PairMax" version "1" namespace "test" rejects input types`)
}

func TestPluginDimsError(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{4})
	b := n.AddInput("b", Float32, Dims{5})
	n.MarkOutput(n.AddPluginV3([]*Tensor{a, b}, nil, &ctlPairMax{}).Output(0))
	ctlWantProblem(t, n, diag.InvalidNode, "rejects input dims")
}

func TestPluginWrongOutputCount(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{4})
	n.MarkOutput(n.AddPluginV3([]*Tensor{a, a}, nil, &ctlPairMax{types: []DataType{Float32, Float32}}).Output(0))
	ctlWantProblem(t, n, diag.InvalidNode, "declares 1 outputs but returned 2 types")
}

func TestPluginShapeInputType(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{4})
	s := n.AddInput("s", Float32, Dims{2})
	n.MarkOutput(n.AddPluginV3([]*Tensor{a, a}, []*Tensor{s}, &ctlPairMax{}).Output(0))
	ctlWantProblem(t, n, diag.TypeMismatch, "shape input \"s\" must be an Int32/Int64")
}

func TestPluginNil(t *testing.T) {
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{4})
	n.MarkOutput(a)
	n.AddPluginV3([]*Tensor{a}, nil, nil)
	ctlWantProblem(t, n, diag.InvalidArgument, "nil plugin")
}
