package onnx

import (
	"errors"
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

// nodeCtx is what an op importer sees: the node, its inputs as network
// tensors or known constants, its attributes, and the network to add
// layers to.
type nodeCtx struct {
	imp   *importer
	node  *onnxpb.NodeProto
	index int
	opset int64
	net   *dsl.Network
	// folding holds the constant inputs when the node is being computed at
	// import time in a scratch network (nil otherwise).
	folding []*tensor.Tensor
	// err is the first attribute error; the node fails with it.
	err error
	// scratchConsts caches Constant layers made while folding.
	scratchConsts map[int]*dsl.Tensor
}

// Net is the network layers are added to.
func (c *nodeCtx) Net() *dsl.Network { return c.net }

// Opset is the model's opset version for the node's domain.
func (c *nodeCtx) Opset() int64 { return c.opset }

// Node is the node being imported.
func (c *nodeCtx) Node() *onnxpb.NodeProto { return c.node }

// NbInputs is the number of inputs the node lists (including empty names
// for skipped optional inputs).
func (c *nodeCtx) NbInputs() int { return len(c.node.GetInput()) }

// NbOutputs is the number of outputs the node lists.
func (c *nodeCtx) NbOutputs() int { return len(c.node.GetOutput()) }

// HasInput reports whether optional input i is given.
func (c *nodeCtx) HasInput(i int) bool {
	return i < len(c.node.GetInput()) && c.node.GetInput()[i] != ""
}

// Require checks that the first n inputs are given: a node that omits a
// required input gets an error naming it instead of a nil tensor.
func (c *nodeCtx) Require(n int) error {
	for i := range n {
		if !c.HasInput(i) {
			return c.Errorf(diag.InvalidNode, "%s needs input %d (of %d required): input %d is missing", c.node.GetOpType(), i, n, i)
		}
	}
	return nil
}

// HasOutput reports whether output i is wanted.
func (c *nodeCtx) HasOutput(i int) bool {
	return i < len(c.node.GetOutput()) && c.node.GetOutput()[i] != ""
}

// Input returns input i as a network tensor (adding a Constant layer for a
// constant), or nil when the optional input is absent. A missing producer
// is recorded as the node's error.
func (c *nodeCtx) Input(i int) *dsl.Tensor {
	if !c.HasInput(i) {
		return nil
	}
	if c.folding != nil {
		if c.scratchConsts == nil {
			c.scratchConsts = map[int]*dsl.Tensor{}
		}
		if t, ok := c.scratchConsts[i]; ok {
			return t
		}
		t, err := materialize(c.net, c.folding[i])
		if err != nil {
			c.fail(err)
			return c.net.Errorf(diag.InvalidNode, "input %d: %v", i, err)
		}
		c.scratchConsts[i] = t
		return t
	}
	t, err := c.imp.tensorFor(c.node.GetInput()[i], fmt.Sprintf("input %d", i))
	if err != nil {
		c.fail(err)
		return c.net.Errorf(diag.InvalidGraph, "%v", err)
	}
	return t
}

// Const returns input i's value when it is known at import time (an
// initializer, a Constant node or a folded result).
func (c *nodeCtx) Const(i int) (*tensor.Tensor, bool) {
	if !c.HasInput(i) {
		return nil, false
	}
	if c.folding != nil {
		return c.folding[i], c.folding[i] != nil
	}
	v := c.imp.lookupValue(c.node.GetInput()[i])
	if v == nil || v.c == nil {
		return nil, false
	}
	return v.c, true
}

// ConstInts returns input i's values as int64 when known at import time
// (constants, or shape arithmetic the DSL evaluated).
func (c *nodeCtx) ConstInts(i int) ([]int64, bool) {
	if t, ok := c.Const(i); ok {
		return t.Int64Values(), true
	}
	if !c.HasInput(i) {
		return nil, false
	}
	if v := c.imp.lookupValue(c.node.GetInput()[i]); v != nil && v.t != nil && c.folding == nil {
		return v.t.KnownValues()
	}
	return nil, false
}

// ConstFloats returns input i's values as float64 when known at import time.
func (c *nodeCtx) ConstFloats(i int) ([]float64, bool) {
	if t, ok := c.Const(i); ok {
		return t.Float64s(), true
	}
	return nil, false
}

// Constant adds a Constant layer for a host tensor.
func (c *nodeCtx) Constant(t *tensor.Tensor) *dsl.Tensor {
	out, err := materialize(c.net, t)
	if err != nil {
		c.fail(err)
		return c.net.Errorf(diag.InvalidNode, "%v", err)
	}
	return out
}

// Errorf returns an error about this node.
func (c *nodeCtx) Errorf(code diag.Code, format string, args ...any) error {
	return &diag.Error{Code: code, Layer: c.node.GetName(), Op: c.node.GetOpType(), Index: c.index,
		Msg: fmt.Sprintf(format, args...)}
}

// attach names the node in an error that does not name one yet.
func (c *nodeCtx) attach(err error) error {
	var e *diag.Error
	if errors.As(err, &e) && e.Layer == "" && e.Op == "" {
		cp := *e
		cp.Layer, cp.Op, cp.Index = c.node.GetName(), c.node.GetOpType(), c.index
		return &cp
	}
	if e == nil {
		return &diag.Error{Code: diag.InvalidNode, Layer: c.node.GetName(), Op: c.node.GetOpType(), Index: c.index, Msg: err.Error()}
	}
	return err
}

func (c *nodeCtx) fail(err error) {
	if c.err == nil {
		c.err = c.attach(err)
	}
}

// attr returns the named attribute, or nil.
func (c *nodeCtx) attr(name string) *onnxpb.AttributeProto {
	for _, a := range c.node.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

// HasAttr reports whether the node sets an attribute.
func (c *nodeCtx) HasAttr(name string) bool { return c.attr(name) != nil }

func (c *nodeCtx) wrongType(a *onnxpb.AttributeProto, want string) {
	c.fail(c.Errorf(diag.UnsupportedAttr, "attribute %q is %v, want %s", a.GetName(), a.GetType(), want))
}

// AttrInt returns an INT attribute or def when absent.
func (c *nodeCtx) AttrInt(name string, def int64) int64 {
	a := c.attr(name)
	if a == nil {
		return def
	}
	if a.GetType() != onnxpb.AttributeProto_INT {
		c.wrongType(a, "INT")
		return def
	}
	return a.GetI()
}

// AttrFloat returns a FLOAT attribute or def when absent.
func (c *nodeCtx) AttrFloat(name string, def float32) float32 {
	a := c.attr(name)
	if a == nil {
		return def
	}
	if a.GetType() != onnxpb.AttributeProto_FLOAT {
		c.wrongType(a, "FLOAT")
		return def
	}
	return a.GetF()
}

// AttrString returns a STRING attribute or def when absent.
func (c *nodeCtx) AttrString(name, def string) string {
	a := c.attr(name)
	if a == nil {
		return def
	}
	if a.GetType() != onnxpb.AttributeProto_STRING {
		c.wrongType(a, "STRING")
		return def
	}
	return string(a.GetS())
}

// AttrInts returns an INTS attribute or def when absent.
func (c *nodeCtx) AttrInts(name string, def []int64) []int64 {
	a := c.attr(name)
	if a == nil {
		return def
	}
	if a.GetType() != onnxpb.AttributeProto_INTS {
		c.wrongType(a, "INTS")
		return def
	}
	return a.GetInts()
}

// AttrFloats returns a FLOATS attribute or def when absent.
func (c *nodeCtx) AttrFloats(name string, def []float32) []float32 {
	a := c.attr(name)
	if a == nil {
		return def
	}
	if a.GetType() != onnxpb.AttributeProto_FLOATS {
		c.wrongType(a, "FLOATS")
		return def
	}
	return a.GetFloats()
}

// AttrStrings returns a STRINGS attribute or def when absent.
func (c *nodeCtx) AttrStrings(name string, def []string) []string {
	a := c.attr(name)
	if a == nil {
		return def
	}
	if a.GetType() != onnxpb.AttributeProto_STRINGS {
		c.wrongType(a, "STRINGS")
		return def
	}
	out := make([]string, len(a.GetStrings()))
	for i, s := range a.GetStrings() {
		out[i] = string(s)
	}
	return out
}

// AttrTensor returns a TENSOR attribute as a host tensor, or nil.
func (c *nodeCtx) AttrTensor(name string) *tensor.Tensor {
	a := c.attr(name)
	if a == nil {
		return nil
	}
	if a.GetType() != onnxpb.AttributeProto_TENSOR {
		c.wrongType(a, "TENSOR")
		return nil
	}
	t, err := TensorFromProto(a.GetT(), c.imp.model.Dir)
	if err != nil {
		c.fail(c.Errorf(diag.CodeOf(err), "attribute %q: %v", name, err))
		return nil
	}
	return t
}

// AttrGraph returns a GRAPH attribute, or nil.
func (c *nodeCtx) AttrGraph(name string) *onnxpb.GraphProto {
	a := c.attr(name)
	if a == nil {
		return nil
	}
	if a.GetType() != onnxpb.AttributeProto_GRAPH {
		c.wrongType(a, "GRAPH")
		return nil
	}
	return a.GetG()
}

// Attrs returns every attribute as a Go value (int64, float32, string,
// []int64, []float32, []string, *tensor.Tensor), for plugins.
func (c *nodeCtx) Attrs() map[string]any {
	out := map[string]any{}
	for _, a := range c.node.GetAttribute() {
		switch a.GetType() {
		case onnxpb.AttributeProto_INT:
			out[a.GetName()] = a.GetI()
		case onnxpb.AttributeProto_FLOAT:
			out[a.GetName()] = a.GetF()
		case onnxpb.AttributeProto_STRING:
			out[a.GetName()] = string(a.GetS())
		case onnxpb.AttributeProto_INTS:
			out[a.GetName()] = a.GetInts()
		case onnxpb.AttributeProto_FLOATS:
			out[a.GetName()] = a.GetFloats()
		case onnxpb.AttributeProto_STRINGS:
			out[a.GetName()] = c.AttrStrings(a.GetName(), nil)
		case onnxpb.AttributeProto_TENSOR:
			out[a.GetName()] = c.AttrTensor(a.GetName())
		}
	}
	return out
}

// ImportSubgraph imports a subgraph's nodes into the same network, in a
// scope that sees the enclosing names; bind gives its formal inputs. It
// returns the subgraph's outputs as network tensors (constants are added
// as Constant layers). Control-flow importers wrap the result in loop or
// conditional boundary layers.
func (c *nodeCtx) ImportSubgraph(g *onnxpb.GraphProto, bind map[string]*dsl.Tensor) ([]*dsl.Tensor, error) {
	imp := c.imp
	imp.push()
	defer imp.pop()
	for name, t := range bind {
		imp.define(name, &value{t: t})
	}
	for _, init := range g.GetInitializer() {
		t, err := TensorFromProto(init, imp.model.Dir)
		if err != nil {
			return nil, c.Errorf(diag.InvalidFile, "subgraph %q initializer %q: %v", g.GetName(), init.GetName(), err)
		}
		imp.define(init.GetName(), &value{c: t})
	}
	if err := imp.importNodes(g.GetNode()); err != nil {
		return nil, err
	}
	outs := make([]*dsl.Tensor, len(g.GetOutput()))
	for i, o := range g.GetOutput() {
		t, err := imp.tensorFor(o.GetName(), "subgraph output")
		if err != nil {
			return nil, c.attach(err)
		}
		outs[i] = t
	}
	return outs, nil
}
