// Package qdq places the Quantize and Dequantize layers of an explicitly
// quantized (Q/DQ) network the way TensorRT's builder does before it fuses
// them into quantized kernels ("Working with Quantized Types", Q/DQ layer
// placement and propagation, in the TensorRT developer guide): a
// Dequantize moves later, past the layers that commute with it, so those
// layers move quantized data; a Quantize that then reads a Dequantize of
// the same scale cancels it.
//
// Every rewrite here is exact on the CPU engine, bit for bit (the tests
// compare with scale 0), because each one only reorders operations that
// commute exactly:
//
//   - Dequantize past data movement: a per-tensor Dequantize computes
//     (x - 0) * s element by element, and Shuffle, Slice, Squeeze,
//     Unsqueeze and Concatenation only move elements, so op(DQ(x)) ==
//     DQ(op(x)). The CPU engine's data-movement kernels copy bytes and
//     accept every type, Int4 included. Slice in fill mode fills with
//     zeros, and DQ(0) is 0 (+0 in both orders); a fill-value input would
//     have to be quantized, so that slice is left alone. Concatenation
//     needs every input to be a Dequantize of the same type with the same
//     scale. A per-channel or block scale does not move (a shuffle would
//     move the channel axis).
//   - Dequantize past ReLU: relu(x*s) == relu(x)*s when s > 0 (and the
//     zero point is 0), for a constant scale. Only FP8 data can take the
//     ReLU, since an Activation layer takes floats (FP8 included) but not
//     Int8 or Int4.
//   - Quantize of a Dequantize: Q(DQ(x, s), s) gives x back when every
//     code survives the round trip, which is checked for every code of
//     the quantized type (256 at most) and every distinct scale value,
//     computed as the CPU engine computes it (float32 products rounded to
//     the Dequantize's output type, float32 quotients, round half to
//     even, saturation). A float16 Dequantize of a tiny scale, whose
//     products would be subnormal, does not cancel. Zeros count as equal
//     whatever their sign: the CPU engine's FP8 Quantize adds its zero
//     point (+0) and so turns -0 into +0, where TensorRT keeps the sign.
//
// Not moved: MaxPool, which TensorRT runs on int8, because the DSL's
// Pooling layer (and so the CPU engine) takes float inputs only. Weight
// Dequantize layers stay: GPU targets want the quantized weights, so a
// Dequantize of a constant is not folded into a float constant here.
// Zero points must be absent or constant zeros (TensorRT's rule).
// Layers inside loops and conditionals are copied as they are.
package qdq

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// Propagate moves Dequantize layers later across layers that commute with
// them and cancels Quantize-of-Dequantize pairs with the same scale. It
// returns g itself when nothing applies.
func Propagate(g *ir.Graph, o ir.Options) (*ir.Graph, error) {
	if g.Net.Err() != nil {
		return g, nil // the verifier reports a broken network
	}
	p := newPass(g.Net)
	for _, l := range g.Net.TopoLayers() {
		p.visit(l)
	}
	if p.nbRewrites == 0 {
		return g, nil
	}
	net, err := p.finish()
	if err != nil {
		return nil, err
	}
	return g.Derive(net), nil
}

// deq is a float tensor of the source network not computed yet: the
// Dequantize dq applied to q, a quantized tensor of the new network.
type deq struct {
	q    *dsl.Tensor
	dq   *dsl.DequantizeLayer // the source Dequantize whose settings apply
	name string               // the name of the Dequantize, if one is added
}

// pass is the state of one rebuild.
type pass struct {
	r        *ir.Rebuilder
	uses     map[*dsl.Tensor]int
	inRegion map[dsl.Layer]bool
	// deqs are source tensors whose Dequantize has not been added to the
	// new network (moved later or cancelled); need adds it for a reader
	// that wants the float values.
	deqs       map[*dsl.Tensor]*deq
	nbRewrites int
}

func newPass(net *dsl.Network) *pass {
	p := &pass{
		r:        ir.NewRebuilder(net),
		uses:     ir.UseCounts(net),
		inRegion: ir.RegionMembers(net),
		deqs:     map[*dsl.Tensor]*deq{},
	}
	return p
}

// visit handles one layer of the source network in topological order.
func (p *pass) visit(l dsl.Layer) {
	if p.r.Mapped(l.Output(0)) {
		return // a constant copied early for a reader
	}
	if !p.inRegion[l] {
		switch l := l.(type) {
		case *dsl.ConstantLayer:
			// Copied when a copied layer reads it: a scale only a
			// cancelled pair read disappears with it.
			p.r.Defer(l)
			return
		case *dsl.DequantizeLayer:
			if zeroPoint(l.Input(2)) {
				p.need(l.Input(0))
				p.deqs[l.Output(0)] = &deq{q: p.r.Map(l.Input(0)), dq: l, name: l.Name()}
				return
			}
		case *dsl.QuantizeLayer:
			if p.cancel(l) {
				return
			}
		default:
			if p.moveDequantize(l) {
				return
			}
		}
	}
	p.needInputs(l)
	p.r.Copy(l)
}

// needInputs makes every input of l available in the new network.
func (p *pass) needInputs(l dsl.Layer) {
	for i := 0; i < l.NbInputs(); i++ {
		p.need(l.Input(i))
	}
}

// need makes t available in the new network: it adds the Dequantize t
// stands for, or copies the deferred constant producing t.
func (p *pass) need(t *dsl.Tensor) {
	if t == nil || p.r.Mapped(t) {
		return
	}
	if d := p.deqs[t]; d != nil {
		p.need(d.dq.Input(1))
		p.need(d.dq.Input(2))
		c := p.r.Dst.CopyLayer(d.dq, []*dsl.Tensor{d.q, p.r.Map(d.dq.Input(1)), p.r.Map(d.dq.Input(2))}[:d.dq.NbInputs()])
		if c == nil {
			return // Finish reports the network's error
		}
		c.SetName(d.name)
		c.Output(0).SetName(t.Name())
		p.r.Alias(t, c.Output(0))
		return
	}
	p.r.CopyDeferred(t)
}

// finish adds what readers outside the walk still need (network outputs,
// inputs patched after their readers) and returns the new network.
func (p *pass) finish() (*dsl.Network, error) {
	for _, l := range p.r.Src.Layers() {
		if p.r.Deferred(l) && (p.uses[l.Output(0)] == 0 || l.Output(0).IsNetworkOutput()) {
			p.need(l.Output(0))
		}
	}
	for _, o := range p.r.Src.Outputs() {
		p.need(o)
	}
	return p.r.Finish()
}
