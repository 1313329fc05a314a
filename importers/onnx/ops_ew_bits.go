package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// BitShift, composed from integer arithmetic: TensorRT has no shift layer.

func init() {
	ewRegister(OpInfo{Op: "BitShift", Since: 11, Types: "uint8; uint16, uint32, uint64 (widened to int32/int64)",
		Restrictions: "LEFT wraps at the stored type's width (uint8; int32 for uint16, int64 for uint32/uint64), not the ONNX type's; shifts by the width or more are undefined"}, 2, importBitShift)
}

// importBitShift: LEFT is x * 2^y, RIGHT is floor(x / 2^y). The unsigned
// inputs arrive as UInt8, or widened to Int32/Int64 where they are never
// negative, so floor division is the logical shift.
func importBitShift(c *nodeCtx) ([]*dsl.Tensor, error) {
	dir := c.AttrString("direction", "")
	if dir != "LEFT" && dir != "RIGHT" {
		return nil, c.Errorf(diag.UnsupportedAttr, "BitShift direction is %q; want \"LEFT\" or \"RIGHT\"", dir)
	}
	ab := c.Broadcast(c.Input(0), c.Input(1))
	x, y := ab[0], ab[1]
	switch x.Type() {
	case tensor.UInt8, tensor.Int32, tensor.Int64:
	default:
		return nil, c.Errorf(diag.TypeMismatch, "BitShift takes unsigned integers; %q is %v", x.Name(), x.Type())
	}
	y = c.ewCastTo(y, x.Type())
	n := c.Net()
	p := n.AddElementWise(c.ewScalar(2, x.Type(), y.Rank()), y, dsl.ElementWisePow).Output(0)
	if dir == "LEFT" {
		return ewOne(n.AddElementWise(x, p, dsl.ElementWiseProd).Output(0)), nil
	}
	return ewOne(n.AddElementWise(x, p, dsl.ElementWiseFloorDiv).Output(0)), nil
}
