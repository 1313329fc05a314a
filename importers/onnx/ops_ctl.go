package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
)

// If onto an IfConditional. A condition known at import time imports only
// the taken branch. Otherwise every outer value a branch reads that is not
// a constant enters through one ConditionalInput shared by both branches,
// so the branch's layers run only when it is taken; constants stay
// constants (branches may compute shapes from them).

func init() {
	for _, since := range []int64{1, 11, 13, 16, 19, 21} {
		register(OpInfo{Op: "If", Since: since, Types: "Bool condition; tensor outputs",
			Restrictions: "branch outputs must agree in type and rank; no sequence or optional outputs"}, importIf)
	}
}

// ctlBranchInputs makes a ConditionalInput for each non-constant outer
// value read by the graphs, shared across them.
func (c *nodeCtx) ctlBranchInputs(ic *dsl.IfConditional, graphs ...*onnxpb.GraphProto) map[string]*dsl.Tensor {
	bind := map[string]*dsl.Tensor{}
	for _, g := range graphs {
		for _, name := range outerNames(g) {
			if _, done := bind[name]; done {
				continue
			}
			v := c.imp.lookupValue(name)
			if v == nil || v.c != nil || v.t == nil {
				continue // constants stay known; unknown names are reported by the import
			}
			bind[name] = ic.AddInput(v.t).Output(0)
		}
	}
	return bind
}

func importIf(c *nodeCtx) ([]*dsl.Tensor, error) {
	thenG, elseG := c.AttrGraph("then_branch"), c.AttrGraph("else_branch")
	if thenG == nil || elseG == nil {
		return nil, c.Errorf(diag.InvalidNode, "If needs both then_branch and else_branch graph attributes")
	}
	if len(thenG.GetOutput()) != len(elseG.GetOutput()) {
		return nil, c.Errorf(diag.InvalidNode, "then_branch has %d outputs but else_branch has %d", len(thenG.GetOutput()), len(elseG.GetOutput()))
	}
	if v, ok := c.Const(0); ok {
		if v.Len() != 1 {
			return nil, c.Errorf(diag.ShapeMismatch, "the condition must have one element; it has shape %v", v.Shape())
		}
		g := elseG
		if v.Float64At(0) != 0 {
			g = thenG
		}
		return c.ImportSubgraph(g, nil)
	}
	cond := c.Input(0)
	if cond.Type() != dsl.Bool {
		return nil, c.Errorf(diag.TypeMismatch, "the condition %q must be Bool, got %v", cond.Name(), cond.Type())
	}
	if d := cond.Dims(); d.Volume() != 1 && d.IsStatic() {
		return nil, c.Errorf(diag.ShapeMismatch, "the condition %q must have one element; it has dims %v", cond.Name(), d)
	}
	ic := c.Net().AddIfConditional()
	if c.node.GetName() != "" {
		ic.SetName(c.node.GetName())
	}
	ic.SetCondition(c.ctlScalar(cond))
	bind := c.ctlBranchInputs(ic, thenG, elseG)
	thenOut, err := c.ImportSubgraph(thenG, bind)
	if err != nil {
		return nil, err
	}
	elseOut, err := c.ImportSubgraph(elseG, bind)
	if err != nil {
		return nil, err
	}
	outs := make([]*dsl.Tensor, len(thenOut))
	for i := range thenOut {
		a, b := thenOut[i], elseOut[i]
		if a.Type() != b.Type() {
			return nil, c.Errorf(diag.TypeMismatch, "output %d is %v in then_branch but %v in else_branch", i, a.Type(), b.Type())
		}
		if a.Rank() != b.Rank() {
			return nil, c.Errorf(diag.UnsupportedAttr, "output %d has rank %d in then_branch but %d in else_branch; trtc's conditional outputs keep one rank", i, a.Rank(), b.Rank())
		}
		outs[i] = ic.AddOutput(a, b).Output(0)
	}
	return outs, nil
}
