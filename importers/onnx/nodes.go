package onnx

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// noFold lists ops whose result must not be computed at import time even
// when every input is known: random generators, and ops with subgraphs.
var noFold = map[string]bool{
	"RandomNormal": true, "RandomUniform": true, "RandomNormalLike": true, "RandomUniformLike": true,
	"Bernoulli": true, "Multinomial": true, "If": true, "Loop": true, "Scan": true,
}

// maxFoldElements bounds the outputs computed at import time; larger
// results stay layers so the engine, not the importer, holds them.
const maxFoldElements = 1 << 24

// maxFoldWork bounds the arithmetic an import-time fold may do (about a
// tenth of a second on one core): a model whose constant subgraph is a
// large matrix multiply or convolution imports in bounded time, and the
// work is left to the engine.
const maxFoldWork = 1 << 26

// foldWork estimates the multiply-adds of computing net: a product's or
// convolution's output times its reduction length, one per output element
// for the rest.
func foldWork(net *dsl.Network) int64 {
	var w int64
	for _, l := range net.Layers() {
		for i := 0; i < l.NbOutputs(); i++ {
			v := l.Output(i).Dims().Volume()
			if v < 0 {
				return maxFoldWork + 1
			}
			k := int64(1)
			switch l := l.(type) {
			case *dsl.MatrixMultiplyLayer:
				if d := l.Input(0).Dims(); len(d) > 0 {
					k = d[len(d)-1]
				}
			case *dsl.ConvolutionLayer, *dsl.DeconvolutionLayer, *dsl.EinsumLayer:
				// Every input element per output element: an upper bound.
				if d := l.Input(0).Dims(); len(d) > 1 {
					k = max(d.Volume()/max(d[0], 1), 1)
				}
			}
			w += v * max(k, 1)
			if w > maxFoldWork {
				return w
			}
		}
	}
	return w
}

// importNodes imports nodes in dependency order. ONNX requires graphs to
// be sorted, but exporters do not always comply, so they are sorted here.
func (imp *importer) importNodes(nodes []*onnxpb.NodeProto) error {
	order, err := imp.sortNodes(nodes)
	if err != nil {
		return err
	}
	for _, i := range order {
		if err := imp.importNode(nodes[i], i); err != nil {
			return err
		}
	}
	return nil
}

// sortNodes returns node indices so every node follows the producers of
// its inputs within this list; names from outer scopes or not produced
// here impose no order. A cycle is an error naming a node on it.
func (imp *importer) sortNodes(nodes []*onnxpb.NodeProto) ([]int, error) {
	producer := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.GetOutput() {
			if o != "" {
				producer[o] = i
			}
		}
	}
	deps := func(n *onnxpb.NodeProto) []string {
		names := append([]string{}, n.GetInput()...)
		for _, a := range n.GetAttribute() { // subgraphs read outer names
			if a.GetG() != nil {
				names = append(names, outerNames(a.GetG())...)
			}
			for _, sg := range a.GetGraphs() {
				names = append(names, outerNames(sg)...)
			}
		}
		return names
	}
	state := make([]uint8, len(nodes))
	order := make([]int, 0, len(nodes))
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return &diag.Error{Code: diag.InvalidGraph, Layer: nodes[i].GetName(), Op: nodes[i].GetOpType(), Index: i,
				Msg: "the graph has a cycle through this node"}
		case 2:
			return nil
		}
		state[i] = 1
		for _, name := range deps(nodes[i]) {
			if p, ok := producer[name]; ok && p != i {
				if err := visit(p); err != nil {
					return err
				}
			}
		}
		state[i] = 2
		order = append(order, i)
		return nil
	}
	for i := range nodes {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// outerNames lists the names a subgraph reads that it does not define.
func outerNames(g *onnxpb.GraphProto) []string {
	defined := map[string]bool{}
	for _, in := range g.GetInput() {
		defined[in.GetName()] = true
	}
	for _, init := range g.GetInitializer() {
		defined[init.GetName()] = true
	}
	var out []string
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			if in != "" && !defined[in] {
				out = append(out, in)
			}
		}
		for _, a := range n.GetAttribute() {
			if a.GetG() != nil {
				out = append(out, outerNames(a.GetG())...)
			}
			for _, sg := range a.GetGraphs() {
				out = append(out, outerNames(sg)...)
			}
		}
		for _, o := range n.GetOutput() {
			defined[o] = true
		}
	}
	for _, o := range g.GetOutput() {
		if !defined[o.GetName()] {
			out = append(out, o.GetName())
		}
	}
	return out
}

func (imp *importer) importNode(n *onnxpb.NodeProto, index int) (err error) {
	imp.nodeCount++
	dom := NormalizeDomain(n.GetDomain())
	opset := imp.model.Opsets[dom]
	c := &nodeCtx{imp: imp, node: n, index: index, opset: opset, net: imp.net}
	defer func() {
		if r := recover(); r != nil {
			err = c.Errorf(diag.Internal, "internal error while importing: %v\n%s", r, debug.Stack())
		}
	}()
	// An importer wins over a model-local function of the same name; a
	// function wins over a plugin.
	imp0, ok := lookup(dom, n.GetOpType(), opset)
	var run importFunc
	if ok {
		run = imp0.fn
	} else if fn := imp.model.Function(n.GetDomain(), n.GetOpType(), n.GetOverload()); fn != nil {
		return imp.expandFunction(c, fn)
	} else if creator, ok := pluginFor(n); ok {
		run = func(c *nodeCtx) ([]*dsl.Tensor, error) { return importPlugin(c, creator) }
	} else {
		return c.Errorf(diag.UnsupportedNode, "no importer or plugin for %s at opset %d", n.GetOpType(), opset)
	}
	if folded, err := imp.tryFold(c, run); folded || err != nil {
		return err
	}
	before := imp.net.NbLayers()
	outs, err := c.call(run)
	if err != nil {
		return err
	}
	imp.nameLayers(c, before)
	return imp.defineOutputs(c, outs)
}

// nameLayers names the layers a node added after the node, as
// onnx-tensorrt does, so diagnostics and inspect output point at the
// model: "conv1" for one layer, "conv1/Shuffle_2" for helpers around it.
func (imp *importer) nameLayers(c *nodeCtx, from int) {
	name := c.node.GetName()
	if name == "" {
		name = fmt.Sprintf("%s_%d", c.node.GetOpType(), c.index)
	}
	added := imp.net.NbLayers() - from
	for i := from; i < imp.net.NbLayers(); i++ {
		l := imp.net.Layer(i)
		if added == 1 {
			l.SetName(name)
		} else {
			l.SetName(fmt.Sprintf("%s/%v_%d", name, l.Type(), i-from))
		}
	}
}

// call runs an importer and turns attribute errors into its error.
func (c *nodeCtx) call(run importFunc) ([]*dsl.Tensor, error) {
	outs, err := run(c)
	if err == nil && c.err != nil {
		err = c.err
	}
	if err != nil {
		return nil, c.attach(err)
	}
	if len(outs) > len(c.node.GetOutput()) {
		return nil, c.Errorf(diag.Internal, "importer returned %d outputs for a node with %d", len(outs), len(c.node.GetOutput()))
	}
	return outs, nil
}

func (imp *importer) defineOutputs(c *nodeCtx, outs []*dsl.Tensor) error {
	for i, name := range c.node.GetOutput() {
		if name == "" {
			continue
		}
		if i >= len(outs) || outs[i] == nil {
			return c.Errorf(diag.UnsupportedAttr, "output %d (%q) is not produced by trtc's importer for %s", i, name, c.node.GetOpType())
		}
		t := outs[i]
		if !t.IsNetworkInput() {
			t.SetName(name)
		}
		v := &value{t: t}
		// Small integer results known at build time (shape arithmetic)
		// stay known, so later nodes can read them as constants.
		if vals, ok := t.KnownValues(); ok && t.Dims().IsStatic() {
			if kt, err := tensor.FromInt64s(t.Type(), t.Dims(), vals); err == nil {
				v.c = kt
			}
		}
		imp.define(name, v)
	}
	return nil
}

// tryFold computes a node whose inputs are all constants on the CPU engine
// and defines its outputs as constants. It reports whether it did.
func (imp *importer) tryFold(c *nodeCtx, run importFunc) (bool, error) {
	if noFold[c.node.GetOpType()] || hasSubgraph(c.node) {
		return false, nil
	}
	var consts []*tensor.Tensor
	for _, name := range c.node.GetInput() {
		if name == "" {
			consts = append(consts, nil)
			continue
		}
		v := imp.lookupValue(name)
		if v == nil || v.c == nil {
			return false, nil
		}
		consts = append(consts, v.c)
	}
	scratch := dsl.NewNetwork()
	fc := &nodeCtx{imp: imp, node: c.node, index: c.index, opset: c.opset, net: scratch, folding: consts}
	outs, err := fc.call(run)
	if err != nil {
		return false, err
	}
	marked := 0
	for i, o := range outs {
		if o == nil || i >= len(c.node.GetOutput()) || c.node.GetOutput()[i] == "" {
			continue
		}
		if o.Dims().Volume() > maxFoldElements {
			return false, nil
		}
		o.SetName(fmt.Sprintf("fold_out_%d", i))
		scratch.MarkOutput(o)
		marked++
	}
	if marked == 0 || foldWork(scratch) > maxFoldWork {
		return false, nil
	}
	e, err := cpu.New(scratch)
	if err != nil {
		return false, nil // not foldable as built (e.g. dims unknown): import normally
	}
	res, err := e.Run(context.Background(), nil)
	if err != nil {
		return false, c.Errorf(diag.CodeOf(err), "computing the node from its constant inputs failed: %v", err)
	}
	for i, o := range outs {
		if o == nil || i >= len(c.node.GetOutput()) || c.node.GetOutput()[i] == "" {
			continue
		}
		imp.define(c.node.GetOutput()[i], &value{c: res[o.Name()]})
	}
	return true, nil
}

func hasSubgraph(n *onnxpb.NodeProto) bool {
	for _, a := range n.GetAttribute() {
		if a.GetG() != nil || len(a.GetGraphs()) > 0 {
			return true
		}
	}
	return false
}
