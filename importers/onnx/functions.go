package onnx

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/plugins"
)

// expandFunction imports a call of a model-local function by importing the
// function's body inline: formal inputs bound to the call's inputs,
// attribute references (ref_attr_name) replaced by the call's attributes
// or the function's defaults, and the body's values renamed so two calls
// do not collide.
func (imp *importer) expandFunction(c *nodeCtx, fn *onnxpb.FunctionProto) error {
	n := c.node
	prefix := fmt.Sprintf("%s/%s#%d/", fn.GetName(), n.GetName(), imp.nodeCount)
	rename := map[string]string{}
	for i, formal := range fn.GetInput() {
		if i < len(n.GetInput()) {
			rename[formal] = n.GetInput()[i]
		} else {
			rename[formal] = ""
		}
	}
	for i, formal := range fn.GetOutput() {
		if i < len(n.GetOutput()) {
			rename[formal] = n.GetOutput()[i]
		}
	}
	name := func(s string) string {
		if s == "" {
			return ""
		}
		if r, ok := rename[s]; ok {
			return r
		}
		return prefix + s
	}
	callAttrs := map[string]*onnxpb.AttributeProto{}
	for _, a := range fn.GetAttributeProto() { // defaults
		callAttrs[a.GetName()] = a
	}
	for _, a := range n.GetAttribute() {
		callAttrs[a.GetName()] = a
	}
	body := make([]*onnxpb.NodeProto, 0, len(fn.GetNode()))
	for _, fnode := range fn.GetNode() {
		cp := proto.Clone(fnode).(*onnxpb.NodeProto)
		for i, in := range cp.Input {
			cp.Input[i] = name(in)
		}
		for i, out := range cp.Output {
			cp.Output[i] = name(out)
		}
		if cp.GetName() != "" {
			cp.Name = proto.String(prefix + cp.GetName())
		}
		var attrs []*onnxpb.AttributeProto
		for _, a := range cp.GetAttribute() {
			if ref := a.GetRefAttrName(); ref != "" {
				v, ok := callAttrs[ref]
				if !ok {
					continue // an optional attribute the call does not set
				}
				resolved := proto.Clone(v).(*onnxpb.AttributeProto)
				resolved.Name = proto.String(a.GetName())
				a = resolved
			}
			attrs = append(attrs, a)
		}
		cp.Attribute = attrs
		body = append(body, cp)
	}
	// The function may use opsets of its own.
	saved := imp.model.Opsets
	opsets := map[string]int64{}
	for k, v := range saved {
		opsets[k] = v
	}
	for _, o := range fn.GetOpsetImport() {
		opsets[NormalizeDomain(o.GetDomain())] = o.GetVersion()
	}
	imp.model.Opsets = opsets
	defer func() { imp.model.Opsets = saved }()
	if err := imp.importNodes(body); err != nil {
		return c.Errorf(diag.CodeOf(err), "in function %s: %v", fn.GetName(), err)
	}
	return nil
}

// importPlugin adds a Plugin layer for a node that a registered plugin
// handles; every input is a data input.
func importPlugin(c *nodeCtx, creator plugins.Creator) ([]*dsl.Tensor, error) {
	attrs := c.Attrs()
	delete(attrs, "plugin_version")
	delete(attrs, "plugin_namespace")
	p, err := creator.Create(attrs)
	if err != nil && diag.CodeOf(err) != 0 {
		// A plugins.Define creator's error names the plugin, the attribute
		// and the type it expects; keep its code, add the node.
		return nil, c.attach(err)
	}
	if err != nil {
		return nil, c.Errorf(diag.UnsupportedAttr, "plugin %s version %q: %v", creator.Name(), creator.Version(), err)
	}
	var ins []*dsl.Tensor
	for i := 0; i < c.NbInputs(); i++ {
		if c.HasInput(i) {
			ins = append(ins, c.Input(i))
		}
	}
	l := c.Net().AddPluginV3(ins, nil, p)
	outs := make([]*dsl.Tensor, l.NbOutputs())
	for i := range outs {
		outs[i] = l.Output(i)
	}
	return outs, nil
}
