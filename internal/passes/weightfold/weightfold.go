// Package weightfold folds per-channel affine layers that follow a
// convolution into the convolution's constant weights: a Scale layer
// (TensorRT IScaleLayer with power 1, what dsl/nn.BatchNorm and the ONNX
// importer's BatchNormalization build), or an ElementWise Sum, Sub or Prod
// with a constant that broadcasts per output channel (a bias or a scale
// written as separate layers). TensorRT's builder does the same fusion
// ("Convolution + Scale"); doing it on the network saves a full pass over
// the activation on every target, and the CPU engine too.
//
// For an output channel k the convolution computes conv_k(x) + b_k; a
// follower computes y*s_k + t_k. Their composition is a convolution with
// kernel W_k*s_k and bias b_k*s_k + t_k. Folding changes the order of the
// float operations, so the result differs from the original by rounding
// (about one ulp per term of the convolution's sum); the differential tests
// use the kernel's reduction length as the tolerance scale.
package weightfold

import (
	"strings"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// ScaleIntoConv folds Scale, ElementWise Sum/Sub/Prod-by-constant layers
// that are the only reader of a Convolution's or Deconvolution's output
// into that layer's constant kernel and bias. Chains fold too (conv, then
// a batch norm, then a bias add become one convolution, named
// "conv1+bn1+add1"). It returns g itself when nothing folds.
func ScaleIntoConv(g *ir.Graph, o ir.Options) (*ir.Graph, error) {
	if g.Net.Err() != nil {
		return g, nil // the verifier reports a broken network; nothing to fold
	}
	p := newPass(g.Net)
	for _, l := range g.Net.TopoLayers() {
		p.visit(l)
	}
	if p.nbFolded == 0 {
		return g, nil
	}
	net, err := p.finish()
	if err != nil {
		return nil, err
	}
	ng := g.Derive(net)
	// A folded convolution computes what its first layer did: it keeps
	// that layer's precision decision under its new name.
	for name, first := range p.renamed {
		if d, ok := g.Precisions[first]; ok {
			ng.Precisions[name] = d
		}
	}
	return ng, nil
}

// pass is the state of one rebuild.
type pass struct {
	r        *ir.Rebuilder
	uses     map[*dsl.Tensor]int // readers of each tensor of the source network
	inRegion map[dsl.Layer]bool  // layers of loops and conditionals: left alone
	// pending maps the source tensor a folded convolution stands for (its
	// last follower's output) to that convolution, not emitted yet: the
	// next reader decides whether it folds too.
	pending  map[*dsl.Tensor]*folded
	nbFolded int
	renamed  map[string]string // new layer name -> the convolution's old name
}

func newPass(net *dsl.Network) *pass {
	p := &pass{
		r:        ir.NewRebuilder(net),
		uses:     ir.UseCounts(net),
		inRegion: ir.RegionMembers(net),
		pending:  map[*dsl.Tensor]*folded{},
		renamed:  map[string]string{},
	}
	return p
}

// visit handles one layer of the source network in topological order.
func (p *pass) visit(l dsl.Layer) {
	if p.r.Mapped(l.Output(0)) {
		return // a constant copied early for a reader
	}
	if !p.inRegion[l] {
		if _, ok := l.(*dsl.ConstantLayer); ok {
			// Copied when a copied layer reads it: a constant only a
			// folded layer read disappears with it.
			p.r.Defer(l)
			return
		}
		if p.follow(l) {
			return
		}
	}
	p.needInputs(l)
	if f := newFolded(l); f != nil && !p.inRegion[l] {
		p.pending[l.Output(0)] = f
		return
	}
	p.r.Copy(l)
}

// follow folds l into the pending convolution it reads, when l is a
// per-channel affine map of that convolution's output and its only reader.
func (p *pass) follow(l dsl.Layer) bool {
	var f *folded
	var a, b []float64
	switch l := l.(type) {
	case *dsl.ScaleLayer:
		f = p.single(l.Input(0))
		if f == nil {
			return false
		}
		var ok bool
		a, b, ok = scaleCoefficients(l, f.outDims(), f.k)
		if !ok {
			return false
		}
	case *dsl.ElementWiseLayer:
		x, c := l.Input(0), l.Input(1)
		first := true
		if f = p.single(x); f == nil {
			x, c, first = c, x, false
			if f = p.single(x); f == nil {
				return false
			}
		}
		if cl, _ := c.Producer(); cl == nil || p.inRegion[cl] {
			return false
		}
		var ok bool
		a, b, ok = elementWiseCoefficients(l.Operation(), c, first, f.outDims(), f.k)
		if !ok {
			return false
		}
	default:
		return false
	}
	if !f.compose(a, b, l) {
		return false
	}
	delete(p.pending, l.Input(0))
	delete(p.pending, l.Input(1))
	p.pending[l.Output(0)] = f
	p.nbFolded++
	return true
}

// single returns the pending convolution t stands for when t has exactly
// one reader and is not a network output.
func (p *pass) single(t *dsl.Tensor) *folded {
	f := p.pending[t]
	if f == nil || p.uses[t] != 1 || t.IsNetworkOutput() {
		return nil
	}
	return f
}

// needInputs makes every input of l available in the new network.
func (p *pass) needInputs(l dsl.Layer) {
	for i := 0; i < l.NbInputs(); i++ {
		p.need(l.Input(i))
	}
}

// need makes t available in the new network: it emits the pending
// convolution t stands for, or copies the deferred constant producing t.
func (p *pass) need(t *dsl.Tensor) {
	if t == nil || p.r.Mapped(t) {
		return
	}
	if f := p.pending[t]; f != nil {
		delete(p.pending, t)
		p.emit(f)
		return
	}
	p.r.CopyDeferred(t)
}

// emit adds the (possibly folded) convolution to the new network.
func (p *pass) emit(f *folded) {
	p.needInputs(f.conv)
	if len(f.names) == 1 {
		p.r.Copy(f.conv)
		return
	}
	in := make([]*dsl.Tensor, f.conv.NbInputs())
	for i := range in {
		in[i] = p.r.Map(f.conv.Input(i))
	}
	c := p.r.Dst.CopyLayer(f.conv, in)
	if c == nil {
		return // Finish reports the network's error
	}
	w := c.(interface {
		SetKernelWeights(dsl.Weights)
		SetBiasWeights(dsl.Weights)
	})
	w.SetKernelWeights(dsl.NewWeights(f.kernel))
	w.SetBiasWeights(dsl.NewWeights(f.bias))
	name := strings.Join(f.names, "+")
	c.SetName(name)
	p.renamed[name] = f.conv.Name()
	c.Output(0).SetName(f.last.Output(0).Name())
	p.r.Alias(f.last.Output(0), c.Output(0))
}

// finish emits what is still pending, copies the constants that are still
// needed (network outputs, and constants no layer read to begin with) and
// returns the new network.
func (p *pass) finish() (*dsl.Network, error) {
	for _, l := range p.r.Src.TopoLayers() {
		if f := p.pending[l.Output(0)]; f != nil {
			delete(p.pending, l.Output(0))
			p.emit(f)
		}
		if p.r.Deferred(l) && (p.uses[l.Output(0)] == 0 || l.Output(0).IsNetworkOutput()) {
			p.need(l.Output(0))
		}
	}
	return p.r.Finish()
}
