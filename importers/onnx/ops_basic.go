package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// The first importers: they show the pattern the others follow.

func init() {
	const floatsInts = "float32, float16, bfloat16, int32, int64 (double, int16, uint16/32/64 widened)"
	binary := map[string]dsl.ElementWiseOperation{
		"Add": dsl.ElementWiseSum, "Sub": dsl.ElementWiseSub, "Mul": dsl.ElementWiseProd, "Div": dsl.ElementWiseDiv,
	}
	for op, ew := range binary {
		for _, since := range []int64{1, 6, 7, 13, 14} {
			register(OpInfo{Op: op, Since: since, Types: floatsInts}, importBinary(ew))
		}
	}
	for _, since := range []int64{1, 13, 16} {
		register(OpInfo{Op: "Identity", Since: since, Types: "all tensor types", Restrictions: "no sequence or optional values"}, importIdentity)
	}
	for _, since := range []int64{1, 9, 11, 12, 13, 19} {
		register(OpInfo{Op: "Constant", Since: since, Types: "all tensor types", Restrictions: "no string values"}, importConstant)
	}
}

// importBinary imports an ONNX binary op: multidirectional broadcasting
// from opset 7, the broadcast/axis attributes before.
func importBinary(op dsl.ElementWiseOperation) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		ab, err := c.ewBroadcast2(c.Input(0), c.Input(1))
		if err != nil {
			return nil, err
		}
		return outputs(c.Net().AddElementWise(ab[0], ab[1], op)), nil
	}
}

func importIdentity(c *nodeCtx) ([]*dsl.Tensor, error) {
	return outputs(c.Net().AddIdentity(c.Input(0))), nil
}

// importConstant returns the node's value as a constant input for the
// nodes that read it (folded: the Constant layer is added only where a
// layer needs the tensor).
func importConstant(c *nodeCtx) ([]*dsl.Tensor, error) {
	if t := c.AttrTensor("value"); t != nil {
		return []*dsl.Tensor{c.Constant(t)}, nil
	}
	if a := c.attr("sparse_value"); a != nil {
		t, err := SparseToDense(a.GetSparseTensor(), c.imp.model.Dir)
		if err != nil {
			return nil, c.Errorf(diag.InvalidNode, "sparse_value: %v", err)
		}
		return []*dsl.Tensor{c.Constant(t)}, nil
	}
	for _, scalar := range []string{"value_float", "value_floats", "value_int", "value_ints"} {
		if c.HasAttr(scalar) {
			return []*dsl.Tensor{c.Constant(constantFromAttr(c, scalar))}, nil
		}
	}
	return nil, c.Errorf(diag.UnsupportedAttr, "Constant needs one of value, sparse_value, value_float(s), value_int(s) (strings are not supported)")
}
