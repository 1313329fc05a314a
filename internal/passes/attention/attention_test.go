package attention

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/passes/fold"
	"github.com/trtc/trtc/internal/passes/matmulop"
	"github.com/trtc/trtc/internal/passes/simplify"
)

// pattern describes one exported attention: how the scores are scaled
// and masked, and the operands' dims.
type pattern struct {
	name         string
	scale        string // "", "mul", "mul-left", "div"
	mask         string // "", "right", "left"
	maskDims     dsl.Dims
	q, kv        dsl.Dims
	softmaxAxis  int
	scoresOutput bool // the scores are also a network output
	// sdpa exports the keys as PyTorch exports scaled_dot_product_attention:
	// k is [B, S, H, D], transposed to Kᵀ by a shuffle, and Q and Kᵀ are
	// each scaled by the scale's root.
	sdpa bool
}

// build is the pattern as PyTorch exports it, the key transpose already
// the product's operation.
func (p pattern) build() *dsl.Network {
	n := dsl.NewNetwork()
	q := n.AddInput("q", dsl.Float32, p.q)
	kd := p.kv
	if p.sdpa {
		kd = dsl.Dims{kd[0], kd[2], kd[1], kd[3]}
	}
	k := n.AddInput("k", dsl.Float32, kd)
	v := n.AddInput("v", dsl.Float32, p.kv)
	var scores *dsl.Tensor
	if p.sdpa {
		root := n.AddConstant(dsl.Dims{1, 1, 1, 1}, dsl.Float32Weights(0.7)).Output(0)
		kt := n.AddShuffle(k)
		kt.SetFirstTranspose(dsl.Permutation{0, 2, 3, 1})
		qs := n.AddElementWise(q, root, dsl.ElementWiseProd).Output(0)
		kts := n.AddElementWise(kt.Output(0), root, dsl.ElementWiseProd).Output(0)
		scores = n.AddMatrixMultiply(qs, dsl.MatrixOpNone, kts, dsl.MatrixOpNone).Output(0)
	} else {
		scores = n.AddMatrixMultiply(q, dsl.MatrixOpNone, k, dsl.MatrixOpTranspose).Output(0)
	}
	if p.scoresOutput {
		scores.SetName("scores")
		n.MarkOutput(scores)
	}
	x := scores
	c := n.AddConstant(dsl.Dims{1, 1, 1, 1}, dsl.Float32Weights(0.5)).Output(0)
	switch p.scale {
	case "mul":
		x = n.AddElementWise(x, c, dsl.ElementWiseProd).Output(0)
	case "mul-left":
		x = n.AddElementWise(c, x, dsl.ElementWiseProd).Output(0)
	case "div":
		x = n.AddElementWise(x, c, dsl.ElementWiseDiv).Output(0)
	}
	if p.mask != "" {
		m := n.AddInput("mask", dsl.Float32, p.maskDims)
		if p.mask == "left" {
			x = n.AddElementWise(m, x, dsl.ElementWiseSum).Output(0)
		} else {
			x = n.AddElementWise(x, m, dsl.ElementWiseSum).Output(0)
		}
	}
	sm := n.AddSoftMax(x)
	sm.SetAxes(1 << p.softmaxAxis)
	out := n.AddMatrixMultiply(sm.Output(0), dsl.MatrixOpNone, v, dsl.MatrixOpNone).Output(0)
	out.SetName("out")
	n.MarkOutput(out)
	return n
}

func attentions(net *dsl.Network) int {
	n := 0
	for _, l := range net.Layers() {
		if l.Type() == dsl.LayerAttention {
			n++
		}
	}
	return n
}

func TestAttentionPatternsBecomeOneLayer(t *testing.T) {
	q, kv := dsl.Dims{2, 3, 5, 4}, dsl.Dims{2, 3, 7, 4}
	for _, p := range []pattern{
		{name: "bert", scale: "div", mask: "right", maskDims: dsl.Dims{2, 1, 1, 7}},
		{name: "scale on the left, mask on the left", scale: "mul-left", mask: "left", maskDims: dsl.Dims{2, 1, 5, 7}},
		{name: "full mask", scale: "mul", mask: "right", maskDims: dsl.Dims{2, 3, 5, 7}},
		{name: "no scale", mask: "right", maskDims: dsl.Dims{1, 1, 1, 7}},
		{name: "no mask", scale: "mul"},
		{name: "plain"},
		{name: "scaled_dot_product_attention", mask: "right", maskDims: dsl.Dims{2, 1, 5, 7}, sdpa: true},
		{name: "grouped-query", scale: "div", kv: dsl.Dims{2, 1, 7, 4}},
		{name: "dynamic batch", scale: "div", mask: "right", maskDims: dsl.Dims{-1, 1, 1, 7}, q: dsl.Dims{-1, 3, 5, 4}, kv: dsl.Dims{-1, 3, 7, 4}},
	} {
		t.Run(p.name, func(t *testing.T) {
			if p.q == nil {
				p.q = q
			}
			if p.kv == nil {
				p.kv = kv
			}
			p.softmaxAxis = 3
			net := p.build()
			if !irtest.CheckPass(t, p.name, Fuse, half, net, irtest.RandomInputs(net, 1, 2), 4) {
				t.Fatal("not rewritten")
			}
			out, _ := Fuse(ir.New(net), half)
			if n := attentions(out.Net); n != 1 {
				t.Errorf("%d attention layers, want 1", n)
			}
			for _, l := range out.Net.Layers() {
				if k := l.Type(); k == dsl.LayerMatrixMultiply || k == dsl.LayerSoftMax {
					t.Errorf("%s remains", dsl.LayerString(l))
				}
			}
		})
	}
}

// half is the build options the pass rewrites under: fp16 compute.
var half = ir.Options{OptLevel: 2, Compute: dsl.Float16}

func TestFloat32AttentionStays(t *testing.T) {
	p := pattern{name: "bert", scale: "div", mask: "right", maskDims: dsl.Dims{2, 1, 1, 7}, q: dsl.Dims{2, 3, 5, 4}, kv: dsl.Dims{2, 3, 7, 4}, softmaxAxis: 3}
	g := ir.New(p.build())
	if out, err := Fuse(g, ir.Options{OptLevel: 2, Compute: dsl.Float32}); err != nil || out != g {
		t.Errorf("float32 attention rewritten (%v), want it unchanged", err)
	}
}

func TestPatternsThatStay(t *testing.T) {
	q, kv := dsl.Dims{2, 3, 5, 4}, dsl.Dims{2, 3, 7, 4}
	for _, p := range []pattern{
		{name: "softmax over another axis", scale: "div", softmaxAxis: 2},
		{name: "scores read elsewhere", scale: "div", softmaxAxis: 3, scoresOutput: true},
		{name: "mask that does not broadcast", mask: "right", maskDims: dsl.Dims{2, 1, 7, 1}, softmaxAxis: 3},
		{name: "rank 3", q: dsl.Dims{6, 5, 4}, kv: dsl.Dims{6, 7, 4}, softmaxAxis: 2},
	} {
		t.Run(p.name, func(t *testing.T) {
			if p.q == nil {
				p.q, p.kv = q, kv
			}
			net := p.build()
			g := ir.New(net)
			out, err := Fuse(g, half)
			if err != nil {
				t.Fatal(err)
			}
			if out != g {
				t.Errorf("rewritten, want the network unchanged")
			}
		})
	}
}

// TestExportedTransformers rewrites the attention of the PyTorch models
// in the importer's test data, after the passes that run before this
// one, and checks the outputs on the CPU engine.
func TestExportedTransformers(t *testing.T) {
	for _, c := range []struct {
		file  string
		dims  map[string]dsl.Dims // fixed as a build's profile fixes them
		heads int                 // attention layers expected
	}{
		{"tiny_bert.onnx", map[string]dsl.Dims{"input_ids": {2, 16}, "attention_mask": {2, 16}}, 2},
		{"transformer_block.onnx", map[string]dsl.Dims{"x": {2, 16, 32}}, 1},
	} {
		t.Run(c.file, func(t *testing.T) {
			net, err := onnx.Import("../../../importers/onnx/testdata/pytorch/"+c.file, onnx.Options{InputDims: c.dims})
			if err != nil {
				t.Fatal(err)
			}
			g := ir.New(net)
			for _, p := range []func(*ir.Graph, ir.Options) (*ir.Graph, error){fold.Constants, simplify.Identities, matmulop.TransposesIntoMatMul} {
				if g, err = p(g, half); err != nil {
					t.Fatal(err)
				}
			}
			in := irtest.RandomInputs(g.Net, 3, 2)
			if !irtest.CheckPass(t, c.file, Fuse, half, g.Net, in, 8) {
				t.Fatal("not rewritten")
			}
			out, _ := Fuse(g, half)
			if n := attentions(out.Net); n != c.heads {
				t.Errorf("%d attention layers, want %d", n, c.heads)
			}
		})
	}
}
