package qdq

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/tensor"
)

// TestCorpus runs the pass over every ONNX backend test model that passes
// on the CPU engine, as imported and fake-quantized. As imported, no model
// has a Q/DQ pattern (the importer composes int8 QuantizeLinear and
// DequantizeLinear from elementwise layers, and none of the FP8 cases
// that use the layers passes), so the pass must leave them alone. The
// fake-quantized form is what a quantization tool emits: a Quantize and
// Dequantize pair (int8, one scale) on the data input and on the output
// of every data-movement layer, so Dequantize layers move and pairs
// cancel. Every result must verify and give the same outputs bit for bit.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus takes a while; skipped with -short")
	}
	changed, quantized, fakeChanged := 0, 0, 0
	for _, m := range irtest.ConformanceModels(t) {
		if check(t, m.Name, m.Net, m.Inputs) {
			changed++
		}
		if net := fakeQuantize(t, m.Net); net != nil {
			quantized++
			if check(t, m.Name+" fake-quantized", net, m.Inputs) {
				fakeChanged++
			}
		}
	}
	t.Logf("%d models changed as imported; %d of %d fake-quantized models changed", changed, fakeChanged, quantized)
	if changed != 0 {
		t.Errorf("%d imported models changed; none has a Q/DQ pattern", changed)
	}
	// The few that stay pad with a fill value (constant pads, dilated
	// max pools composed of slices), which a Dequantize does not cross.
	if fakeChanged == 0 || fakeChanged < quantized*9/10 {
		t.Errorf("only %d of %d fake-quantized models changed", fakeChanged, quantized)
	}
}

// check runs the pass on net and compares it with the original on the CPU
// engine (irtest.CheckPass); it reports whether the pass changed the
// network.
func check(t *testing.T, name string, net *dsl.Network, in map[string]*tensor.Tensor) bool {
	t.Helper()
	return irtest.CheckPass(t, name, Propagate, ir.Options{OptLevel: 3}, net, in, 0)
}

// fakeQuantize returns a copy of net with int8 Q/DQ pairs around every
// data-movement layer (outside loops and conditionals) whose data input
// is a float tensor of rank >= 1 with an output of rank >= 1, or nil when
// there is none.
func fakeQuantize(t *testing.T, net *dsl.Network) *dsl.Network {
	t.Helper()
	inRegion := map[dsl.Layer]bool{}
	for _, reg := range net.Regions() {
		for _, set := range [][]dsl.Layer{reg.Boundary, reg.Body, reg.Dead} {
			for _, l := range set {
				inRegion[l] = true
			}
		}
	}
	r := ir.NewRebuilder(net)
	qdq := func(x *dsl.Tensor) *dsl.Tensor {
		st, _ := tensor.FromFloat32([]int64{}, []float32{1.0 / 16})
		s := r.Dst.AddConstant(dsl.Dims{}, dsl.NewWeights(st)).Output(0)
		q := r.Dst.AddQuantize(x, s, dsl.Int8).Output(0)
		return r.Dst.AddDequantize(q, s, x.Type()).Output(0)
	}
	n := 0
	for _, l := range net.TopoLayers() {
		data := 1
		switch l.Type() {
		case dsl.LayerShuffle, dsl.LayerSlice, dsl.LayerSqueeze, dsl.LayerUnsqueeze:
		case dsl.LayerConcatenation:
			data = l.NbInputs()
		default:
			data = 0
		}
		ok := data > 0 && !inRegion[l] && l.Output(0).Rank() >= 1
		for i := 0; ok && i < data; i++ {
			x := l.Input(i)
			ok = x.Rank() >= 1 && (x.Type() == dsl.Float32 || x.Type() == dsl.Float16 || x.Type() == dsl.BFloat16)
		}
		if !ok {
			r.Copy(l)
			continue
		}
		in := make([]*dsl.Tensor, l.NbInputs())
		for i := range in {
			in[i] = r.Map(l.Input(i))
			if i < data {
				in[i] = qdq(in[i])
			}
		}
		c := r.Dst.CopyLayer(l, in)
		for o := 0; o < l.NbOutputs(); o++ {
			r.Alias(l.Output(o), c.Output(o))
		}
		r.Alias(l.Output(0), qdq(c.Output(0)))
		n++
	}
	if n == 0 {
		return nil
	}
	out, err := r.Finish()
	if err != nil {
		t.Fatalf("fake-quantizing %q: %v", net.Name(), err)
	}
	return out
}
