package onnx

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/plugins"
	"github.com/trtc/trtc/tensor"
)

// Options tune an import.
type Options struct {
	// Dir is the folder external data paths are relative to when the model
	// comes as bytes (Import uses the model file's folder).
	Dir string
	// InputDims replaces the dims of named graph inputs, for example to fix
	// a dynamic batch (trtexec's --shapes).
	InputDims map[string]dsl.Dims
}

// Import reads an ONNX model file and returns its network.
func Import(path string, opt Options) (*dsl.Network, error) {
	m, err := LoadModel(path)
	if err != nil {
		return nil, err
	}
	return ImportModel(m, opt)
}

// ImportBytes imports a serialized ModelProto.
func ImportBytes(data []byte, opt Options) (*dsl.Network, error) {
	m, err := ParseModel(data, opt.Dir)
	if err != nil {
		return nil, err
	}
	return ImportModel(m, opt)
}

// ImportModel imports a parsed model.
func ImportModel(m *Model, opt Options) (*dsl.Network, error) {
	g := m.Proto.GetGraph()
	if g == nil {
		return nil, diag.Errorf(diag.InvalidFile, "the model has no graph")
	}
	imp := &importer{model: m, opt: opt}
	if err := imp.checkSupport(g); err != nil {
		return nil, err
	}
	net := dsl.NewNetwork()
	if g.GetName() != "" {
		net.SetName(g.GetName())
	}
	imp.net = net
	imp.push()
	if err := imp.importGraphInputs(g); err != nil {
		return nil, err
	}
	if err := imp.importNodes(g.GetNode()); err != nil {
		return nil, err
	}
	for _, o := range g.GetOutput() {
		name := o.GetName()
		t, err := imp.tensorFor(name, "graph output")
		if err != nil {
			return nil, err
		}
		if t.Name() != name || t.IsNetworkOutput() || t.IsNetworkInput() {
			// The value also has another name (Identity folded away) or
			// is bound twice: give the output its own tensor.
			t = net.AddIdentity(t).Output(0)
		}
		t.SetName(name)
		net.MarkOutput(t)
	}
	if err := net.Err(); err != nil {
		return nil, err
	}
	return net, nil
}

// value is what an ONNX name refers to: a tensor of the network, a
// constant known at import time, or both (a constant already added as a
// Constant layer).
type value struct {
	t *dsl.Tensor
	c *tensor.Tensor
}

type importer struct {
	model     *Model
	opt       Options
	net       *dsl.Network
	scopes    []map[string]*value // innermost last: subgraphs see outer names
	nodeCount int
}

func (imp *importer) push() { imp.scopes = append(imp.scopes, map[string]*value{}) }
func (imp *importer) pop()  { imp.scopes = imp.scopes[:len(imp.scopes)-1] }

func (imp *importer) lookupValue(name string) *value {
	for i := len(imp.scopes) - 1; i >= 0; i-- {
		if v, ok := imp.scopes[i][name]; ok {
			return v
		}
	}
	return nil
}

func (imp *importer) define(name string, v *value) {
	if name == "" {
		return
	}
	imp.scopes[len(imp.scopes)-1][name] = v
}

// tensorFor returns the network tensor of a name, adding a Constant layer
// for a constant the first time the network needs it.
func (imp *importer) tensorFor(name, what string) (*dsl.Tensor, error) {
	v := imp.lookupValue(name)
	if v == nil {
		return nil, diag.Errorf(diag.InvalidGraph, "%s %q is not produced by any node, initializer or graph input", what, name)
	}
	if v.t == nil {
		t, err := materialize(imp.net, v.c)
		if err != nil {
			return nil, diag.Wrap(diag.InvalidNode, err, "constant %q", name)
		}
		t.SetName(name)
		v.t = t
	}
	return v.t, nil
}

// materialize adds a Constant layer holding c. Bool and UInt8 constants,
// which TensorRT's Constant layer does not take, are stored as Int32 and cast.
func materialize(net *dsl.Network, c *tensor.Tensor) (*dsl.Tensor, error) {
	dims := dsl.Dims(c.Shape())
	if dt := c.DType(); dt == tensor.Bool || dt == tensor.UInt8 {
		wide, err := c.Convert(tensor.Int32)
		if err != nil {
			return nil, err
		}
		t := net.AddConstant(dims, dsl.NewWeights(wide)).Output(0)
		return net.AddCast(t, dt).Output(0), nil
	}
	return net.AddConstant(dims, dsl.NewWeights(c)).Output(0), nil
}

func (imp *importer) importGraphInputs(g *onnxpb.GraphProto) error {
	inits := map[string]bool{}
	for _, init := range g.GetInitializer() {
		t, err := TensorFromProto(init, imp.model.Dir)
		if err != nil {
			return diag.Wrap(diag.InvalidFile, err, "initializer %q", init.GetName())
		}
		imp.define(init.GetName(), &value{c: t})
		inits[init.GetName()] = true
	}
	for _, sp := range g.GetSparseInitializer() {
		t, err := SparseToDense(sp, imp.model.Dir)
		if err != nil {
			return diag.Wrap(diag.InvalidFile, err, "sparse initializer %q", sp.GetValues().GetName())
		}
		imp.define(sp.GetValues().GetName(), &value{c: t})
		inits[sp.GetValues().GetName()] = true
	}
	for _, in := range g.GetInput() {
		if inits[in.GetName()] {
			continue // IR < 4 lists initializers as inputs too
		}
		dt, dims, err := valueInfoType(in)
		if err != nil {
			return err
		}
		if d, ok := imp.opt.InputDims[in.GetName()]; ok {
			dims = d
		}
		imp.define(in.GetName(), &value{t: imp.net.AddInput(in.GetName(), dt, dims)})
	}
	return nil
}

// valueInfoType reads the element type and dims of a graph input; named
// or missing dims are dynamic (-1).
func valueInfoType(vi *onnxpb.ValueInfoProto) (dsl.DataType, dsl.Dims, error) {
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return 0, nil, diag.Errorf(diag.UnsupportedAttr, "graph input %q is not a tensor (sequence, map and optional inputs are not supported)", vi.GetName())
	}
	dt, err := DataTypeFromProto(tt.GetElemType())
	if err != nil {
		return 0, nil, diag.Wrap(diag.UnsupportedAttr, err, "graph input %q", vi.GetName())
	}
	var dims dsl.Dims
	if tt.GetShape() == nil {
		return 0, nil, diag.Errorf(diag.UnsupportedAttr, "graph input %q has no shape; trtc needs at least its rank", vi.GetName())
	}
	for _, d := range tt.GetShape().GetDim() {
		if _, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok && d.GetDimValue() >= 0 {
			dims = append(dims, d.GetDimValue())
		} else {
			dims = append(dims, -1)
		}
	}
	if dims == nil {
		dims = dsl.Dims{}
	}
	return dt, dims, nil
}

// checkSupport lists every op of the graph (and its subgraphs and
// functions) that has neither an importer nor a plugin, all at once.
func (imp *importer) checkSupport(g *onnxpb.GraphProto) error {
	type miss struct {
		op, domain string
		opset      int64
		nodes      []string
	}
	missing := map[[2]string]*miss{}
	var walk func(g *onnxpb.GraphProto)
	walk = func(g *onnxpb.GraphProto) {
		for i, n := range g.GetNode() {
			dom := NormalizeDomain(n.GetDomain())
			opset := imp.model.Opsets[dom]
			_, ok := lookup(dom, n.GetOpType(), opset)
			if !ok {
				ok = imp.model.Function(n.GetDomain(), n.GetOpType(), n.GetOverload()) != nil
			}
			if !ok {
				_, ok = pluginFor(n)
			}
			if !ok {
				k := [2]string{dom, n.GetOpType()}
				m := missing[k]
				if m == nil {
					m = &miss{op: n.GetOpType(), domain: dom, opset: opset}
					missing[k] = m
				}
				m.nodes = append(m.nodes, nodeLabel(n, i))
			}
			for _, a := range n.GetAttribute() {
				if a.GetG() != nil {
					walk(a.GetG())
				}
				for _, sg := range a.GetGraphs() {
					walk(sg)
				}
			}
		}
	}
	walk(g)
	if len(missing) == 0 {
		return nil
	}
	var list diag.List
	keys := make([][2]string, 0, len(missing))
	for k := range missing {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"/"+keys[i][1] < keys[j][0]+"/"+keys[j][1] })
	for _, k := range keys {
		m := missing[k]
		dom := m.domain
		if dom == "" {
			dom = "ai.onnx"
		}
		shown := m.nodes
		if len(shown) > 5 {
			shown = append(append([]string{}, shown[:5]...), fmt.Sprintf("and %d more", len(m.nodes)-5))
		}
		list = append(list, &diag.Error{Code: diag.UnsupportedNode, Op: m.op, Index: -1,
			Msg: fmt.Sprintf("no importer or plugin for %s (domain %s, opset %d): %d node(s): %s",
				m.op, dom, m.opset, len(m.nodes), strings.Join(shown, ", "))})
	}
	return list
}

func nodeLabel(n *onnxpb.NodeProto, i int) string {
	if n.GetName() != "" {
		return fmt.Sprintf("%q", n.GetName())
	}
	return fmt.Sprintf("#%d", i)
}

// pluginFor finds a registered plugin for a node by op_type and the
// optional plugin_version and plugin_namespace attributes (onnx-tensorrt's
// convention); the namespace defaults to the node's domain.
func pluginFor(n *onnxpb.NodeProto) (plugins.Creator, bool) {
	version, namespace := "", n.GetDomain()
	for _, a := range n.GetAttribute() {
		switch a.GetName() {
		case "plugin_version":
			version = string(a.GetS())
		case "plugin_namespace":
			namespace = string(a.GetS())
		}
	}
	return plugins.Lookup(n.GetOpType(), version, namespace)
}
