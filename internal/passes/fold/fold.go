// Package fold is the constant-folding pass: every layer whose inputs are
// all known at build time, and whose result does not depend on when it
// runs, is computed once on the CPU engine and replaced by a Constant layer
// holding the result. Shape arithmetic on static dims (Shape -> Gather ->
// Concatenation -> Shuffle) folds the same way, since the Shape of a tensor
// with static dims is a constant.
//
// The CPU engine is the oracle every target is compared with, so a folded
// network computes bit for bit what the unfolded one computed there.
package fold

import (
	"fmt"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/tensor"
)

// DefaultMaxFoldElements is the size bound used when Options.MaxFoldElements
// is 0: a result larger than this (and larger than its inputs) stays a
// layer, so a broadcast of a scalar does not become megabytes of weights.
const DefaultMaxFoldElements = 1 << 22

// Constants folds every constant subgraph of g. It returns g itself when
// no layer other than a Constant is constant. A layer the CPU engine fails
// to compute (an integer division by zero, an out-of-range gather on
// constants) is left as a layer: the failure is the engine's to report at
// run time, not the build's.
func Constants(g *ir.Graph, o ir.Options) (*ir.Graph, error) {
	limit := o.MaxFoldElements
	if limit <= 0 {
		limit = DefaultMaxFoldElements
	}
	// Folding makes dims static that were not (a slice whose bounds were
	// shape arithmetic has static dims once that arithmetic is constant),
	// and those layers fold in the next round: rounds until one folds
	// nothing.
	for round := 0; round < maxRounds; round++ {
		ng, err := foldOnce(g, limit)
		if err != nil || ng == g {
			return ng, err
		}
		g = ng
	}
	return g, nil
}

// maxRounds bounds the folding rounds; each round folds at least one
// layer, and chains of shape arithmetic are a few deep.
const maxRounds = 16

// foldOnce folds the layers that are constant given the dims g's network
// has now; it returns g itself when none is.
func foldOnce(g *ir.Graph, limit int64) (*ir.Graph, error) {
	a := analyze(g.Net, limit)
	if len(a.fold) == 0 {
		return g, nil
	}
	vals := a.evaluate()
	if len(a.fold) == 0 {
		return g, nil
	}
	net, folded, err := a.rebuild(vals)
	if err != nil {
		return nil, err
	}
	ng := g.Derive(net)
	// A folded layer computes nothing any more: no precision to choose,
	// no kernel to fuse it into.
	for name := range folded {
		delete(ng.Precisions, name)
	}
	kept := ng.Fusions[:0]
	for _, f := range ng.Fusions {
		ok := true
		for _, l := range f.Layers {
			if folded[l.Name()] {
				ok = false
			}
		}
		if ok {
			kept = append(kept, f)
		}
	}
	ng.Fusions = kept
	return ng, nil
}

// analysis is what the pass knows about one network.
type analysis struct {
	net   *dsl.Network
	order []dsl.Layer
	// source layers produce constants and are copied as they are: Constant
	// layers, and a Cast of a Constant to Bool or UInt8 (how a constant of
	// those types is written, since a Constant cannot hold them).
	source map[dsl.Layer]bool
	// fold holds the layers to replace by constants, evaluated or (a Shape
	// of static dims) not.
	fold map[dsl.Layer]bool
	// inRegion holds loop and conditional layers, which are never touched.
	inRegion map[dsl.Layer]bool
}

func analyze(net *dsl.Network, limit int64) *analysis {
	a := &analysis{net: net, order: net.TopoLayers(), source: map[dsl.Layer]bool{},
		fold: map[dsl.Layer]bool{}, inRegion: ir.RegionMembers(net)}
	for _, l := range a.order {
		if a.inRegion[l] {
			continue
		}
		switch {
		case l.Type() == dsl.LayerConstant || isConstCast(l):
			a.source[l] = true
		case foldable(l, a.isConst, limit):
			a.fold[l] = true
		}
	}
	return a
}

// isConst reports whether t's value is known at build time.
func (a *analysis) isConst(t *dsl.Tensor) bool {
	p, _ := t.Producer()
	return p != nil && (a.source[p] || a.fold[p])
}

// isConstCast matches Cast(Constant) to Bool or UInt8, the form folding
// itself writes those constants in; folding it again would change nothing.
func isConstCast(l dsl.Layer) bool {
	if l.Type() != dsl.LayerCast || l.NbInputs() != 1 || l.Input(0) == nil {
		return false
	}
	p, _ := l.Input(0).Producer()
	dt := l.Output(0).Type()
	return p != nil && p.Type() == dsl.LayerConstant && (dt == dsl.Bool || dt == dsl.UInt8)
}

// neverFold lists layer kinds whose result must be computed when the
// engine runs even from constant inputs: side effects, state, or meaning
// that a later pass or the target needs to see.
var neverFold = map[dsl.LayerType]string{
	dsl.LayerPlugin:          "user code; it may have side effects and has no build-time guarantee",
	dsl.LayerAssertion:       "a run-time check",
	dsl.LayerKVCacheUpdate:   "updates its cache in place in TensorRT",
	dsl.LayerQuantize:        "Q/DQ on weights marks explicit quantization, which TensorRT fuses into the consumer",
	dsl.LayerDequantize:      "see Quantize",
	dsl.LayerDynamicQuantize: "see Quantize",
}

// foldable decides whether l (outside every region) is a constant, given
// which tensors are.
func foldable(l dsl.Layer, isConst func(*dsl.Tensor) bool, limit int64) bool {
	if _, never := neverFold[l.Type()]; never || l.NbOutputs() == 0 {
		return false
	}
	if f, ok := l.(*dsl.FillLayer); ok && f.Operation() != dsl.FillLinspace {
		return false // random values are drawn per run
	}
	var out int64
	for i := 0; i < l.NbOutputs(); i++ {
		d := l.Output(i).Dims()
		if d == nil || !d.IsStatic() {
			return false // data-dependent shape: the result's size is unknown until computed
		}
		out += d.Volume()
	}
	if s, ok := l.(*dsl.ShapeLayer); ok {
		d := s.Input(0).Dims()
		return d != nil && d.IsStatic()
	}
	var in int64
	for i := 0; i < l.NbInputs(); i++ {
		t := l.Input(i)
		if t == nil {
			continue
		}
		if !isConst(t) {
			return false
		}
		in += t.Dims().Volume()
	}
	if work(l, out) > maxWork {
		return false // a large product or convolution is the engine's job, not the build's
	}
	return out <= limit || out <= in
}

// maxWork bounds the multiply-adds one folded layer may cost the build
// (about a tenth of a second on one core).
const maxWork = 1 << 26

// work estimates a layer's multiply-adds from its output volume: times the
// reduction length for products and convolutions (an upper bound: every
// input element per output element), once per element otherwise.
func work(l dsl.Layer, out int64) int64 {
	k := int64(1)
	switch l.(type) {
	case *dsl.MatrixMultiplyLayer, *dsl.ConvolutionLayer, *dsl.DeconvolutionLayer, *dsl.EinsumLayer:
		if d := l.Input(0).Dims(); len(d) > 1 {
			k = max(d.Volume()/max(d[0], 1), 1)
		}
	}
	return out * k
}

// shapeValue is the value of a Shape layer of static dims.
func shapeValue(l dsl.Layer) *tensor.Tensor {
	d := l.Input(0).Dims()
	t, err := tensor.FromInt64([]int64{int64(len(d))}, append([]int64{}, d...))
	if err != nil {
		panic(fmt.Sprintf("fold: shape value of %v: %v", d, err))
	}
	return t
}
