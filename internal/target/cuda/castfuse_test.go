package cuda

import (
	"errors"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/ir"
)

// castNet is x (half) -> Cast f32 -> layer norm -> Cast half -> Cast f32
// -> softmax -> Cast half -> y, with a second reader of the softmax's
// input cast when shared is set (which keeps that cast a kernel).
func castNet(shared bool) (*dsl.Network, []dsl.Layer) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float16, dsl.Dims{4, 64})
	up := net.AddCast(x, dsl.Float32)
	scale := net.AddConstant(dsl.Dims{1, 64}, dsl.Float32Weights(make([]float32, 64)...)).Output(0)
	bias := net.AddConstant(dsl.Dims{1, 64}, dsl.Float32Weights(make([]float32, 64)...)).Output(0)
	norm := net.AddNormalization(up.Output(0), scale, bias, 1<<1)
	down := net.AddCast(norm.Output(0), dsl.Float16)
	up2 := net.AddCast(down.Output(0), dsl.Float32)
	sm := net.AddSoftMax(up2.Output(0))
	sm.SetAxes(1 << 1)
	y := net.AddCast(sm.Output(0), dsl.Float16).Output(0)
	y.SetName("y")
	net.MarkOutput(y)
	if shared {
		z := net.AddUnary(up2.Output(0), dsl.UnaryAbs).Output(0)
		z.SetName("z")
		net.MarkOutput(z)
	}
	return net, []dsl.Layer{up, norm, down, up2, sm}
}

// lowered checks net and lowers it: its plan, kernel sources and layers.
func lowered(t *testing.T, net *dsl.Network) (*plan, map[string]string, []dsl.Layer) {
	t.Helper()
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	p, srcs, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p, srcs, net.TopoLayers()
}

func TestCastsFoldIntoNormalizationAndSoftmax(t *testing.T) {
	net, ls := castNet(false)
	p, srcs, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layers := net.TopoLayers()
	stepOf := func(l dsl.Layer) step {
		for i, m := range layers {
			if m == l {
				return p.Steps[i]
			}
		}
		t.Fatalf("%s is not in the network", dsl.LayerString(l))
		return step{}
	}
	up, norm, down, up2, sm := ls[0], ls[1], ls[2], ls[3], ls[4]
	for _, c := range []dsl.Layer{up, down, up2} {
		if s := stepOf(c); s.Kind != kindFused {
			t.Errorf("%s is a %s step, want fused into its neighbour", dsl.LayerString(c), s.Kind)
		}
	}
	if s := stepOf(norm); s.Prologue == 0 || s.Epilogue == 0 {
		t.Errorf("the norm step folds prologue %d, epilogue %d; want both", s.Prologue, s.Epilogue)
	}
	if s := stepOf(sm); s.Prologue == 0 || s.Epilogue == 0 {
		t.Errorf("the softmax step folds prologue %d, epilogue %d; want both", s.Prologue, s.Epilogue)
	}
	reads, writes := stepReads(layers, p, regionsOfPlan(layers, p)), stepWrites(layers, p, regionsOfPlan(layers, p))
	for i, l := range layers {
		switch l {
		case norm:
			if reads[i][0] != net.Inputs()[0] || writes[i][0] != down.Output(0) {
				t.Errorf("the norm reads %s and writes %s; want x and the half cast's output", reads[i][0].Name(), writes[i][0].Name())
			}
		case sm:
			if reads[i][0] != down.Output(0) || writes[i][0] != net.Outputs()[0] {
				t.Errorf("the softmax reads %s and writes %s; want the norm's half output and y", reads[i][0].Name(), writes[i][0].Name())
			}
		}
	}
	if _, err := decodePlan(mustEncode(t, p), len(layers)); err != nil {
		t.Fatalf("the plan does not decode: %v", err)
	}
	// A cast that names a step that does not fold it in is corrupt.
	for i := range p.Steps {
		if p.Steps[i].Epilogue > 0 {
			bad := *p
			bad.Steps = append([]step(nil), p.Steps...)
			bad.Steps[i].Epilogue = 0
			if _, err := decodePlan(mustEncode(t, &bad), len(layers)); !errors.Is(err, diag.EngineCorrupt) {
				t.Errorf("a fused cast whose kernel does not fold it in decodes: %v", err)
			}
			break
		}
	}
	if _, _, err := cuda.NVRTCVersion(); err == nil {
		if _, err := compileKernels(srcs, "sm_80"); err != nil {
			t.Fatalf("the kernels do not compile: %v", err)
		}
	}

	// A cast with a second reader stays a kernel of its own.
	shared, sls := castNet(true)
	sp, _, err := lowerNetwork(shared, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range shared.TopoLayers() {
		if l == sls[3] && sp.Steps[i].Kind == kindFused && sp.Steps[i].Into >= 0 && sp.Steps[sp.Steps[i].Into].Prologue == i+1 {
			t.Error("a cast that another layer reads was folded into the softmax")
		}
	}
}

func mustEncode(t *testing.T, p *plan) []byte {
	t.Helper()
	b, err := p.encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResidualSumFoldsIntoNormalization: a transformer's residual sum in
// half before its layer norm (kept in float32 between casts) is computed
// by the normalization's kernel, which reads both operands.
func TestResidualSumFoldsIntoNormalization(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float16, dsl.Dims{4, 64})
	a := net.AddUnary(x, dsl.UnaryAbs).Output(0)
	sum := net.AddElementWise(x, a, dsl.ElementWiseSum)
	up := net.AddCast(sum.Output(0), dsl.Float32)
	scale := net.AddConstant(dsl.Dims{1, 64}, dsl.Float32Weights(make([]float32, 64)...)).Output(0)
	bias := net.AddConstant(dsl.Dims{1, 64}, dsl.Float32Weights(make([]float32, 64)...)).Output(0)
	norm := net.AddNormalization(up.Output(0), scale, bias, 1<<1)
	y := net.AddCast(norm.Output(0), dsl.Float16).Output(0)
	y.SetName("y")
	net.MarkOutput(y)
	p, srcs, layers := lowered(t, net)
	reads := stepReads(layers, p, regionsOfPlan(layers, p))
	for i, l := range layers {
		s := p.Steps[i]
		switch l {
		case sum:
			if s.Kind != kindFused {
				t.Errorf("the sum is a %s step, want fused into the normalization", s.Kind)
			}
		case norm:
			if s.Sum == 0 || s.Prologue == 0 || s.Epilogue == 0 {
				t.Errorf("the normalization's step %+v does not fold the sum and both casts", s)
			}
			if len(reads[i]) != 4 || reads[i][0] != x || reads[i][1] != a {
				t.Errorf("the normalization reads %v, want x, the sum's other operand, scale and bias", reads[i])
			}
		}
	}
	if _, _, err := cuda.NVRTCVersion(); err == nil {
		if _, err := compileKernels(srcs, "sm_80"); err != nil {
			t.Fatal(err)
		}
	}
}
