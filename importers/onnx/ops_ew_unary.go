package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Unary math ops: each maps onto one TensorRT IUnaryLayer operation.

func init() {
	const floats = "float32, float16, bfloat16 (double widened)"
	const signed = "float32, float16, bfloat16, int8, int32, int64 (double, int16 widened)"
	unary := []struct {
		op    string
		u     dsl.UnaryOperation
		since []int64
		types string
	}{
		{"Neg", dsl.UnaryNeg, []int64{1, 6, 13}, signed},
		{"Abs", dsl.UnaryAbs, []int64{1, 6, 13}, signed + ", uint8"},
		{"Sign", dsl.UnarySign, []int64{9, 13}, signed + ", uint8"},
		{"Sqrt", dsl.UnarySqrt, []int64{1, 6, 13}, floats},
		{"Reciprocal", dsl.UnaryRecip, []int64{1, 6, 13}, floats},
		{"Exp", dsl.UnaryExp, []int64{1, 6, 13}, floats},
		{"Log", dsl.UnaryLog, []int64{1, 6, 13}, floats},
		{"Ceil", dsl.UnaryCeil, []int64{1, 6, 13}, floats},
		{"Floor", dsl.UnaryFloor, []int64{1, 6, 13}, floats},
		{"Round", dsl.UnaryRound, []int64{11}, floats},
		{"Sin", dsl.UnarySin, []int64{7}, floats},
		{"Cos", dsl.UnaryCos, []int64{7}, floats},
		{"Tan", dsl.UnaryTan, []int64{7}, floats},
		{"Asin", dsl.UnaryAsin, []int64{7}, floats},
		{"Acos", dsl.UnaryAcos, []int64{7}, floats},
		{"Atan", dsl.UnaryAtan, []int64{7}, floats},
		{"Sinh", dsl.UnarySinh, []int64{9}, floats},
		{"Cosh", dsl.UnaryCosh, []int64{9}, floats},
		{"Asinh", dsl.UnaryAsinh, []int64{9}, floats},
		{"Acosh", dsl.UnaryAcosh, []int64{9}, floats},
		{"Atanh", dsl.UnaryAtanh, []int64{9}, floats},
		{"Erf", dsl.UnaryErf, []int64{9, 13}, floats},
		{"IsNaN", dsl.UnaryIsNaN, []int64{9, 13, 20}, floats},
		{"Not", dsl.UnaryNot, []int64{1}, "bool"},
	}
	for _, u := range unary {
		for _, since := range u.since {
			ewRegister(OpInfo{Op: u.op, Since: since, Types: u.types}, 1, importEwUnary(u.u))
		}
	}
	for _, since := range []int64{10, 20} {
		ewRegister(OpInfo{Op: "IsInf", Since: since, Types: floats}, 1, importIsInf)
	}
}

// importEwUnary imports an ONNX op that is one unary layer. The unary
// layer takes no Int8 or UInt8: there Neg is 0 - x and Abs max(x, 0 - x)
// (wrapping like numpy: -(-128) is -128), Abs of UInt8 is an identity, and
// Sign is computed in Int32.
func importEwUnary(op dsl.UnaryOperation) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		x := c.Input(0)
		dt := x.Type()
		if !op.TakesIntegers() || (dt != tensor.Int8 && dt != tensor.UInt8) {
			return ewOne(c.ewUnary(x, op)), nil
		}
		n := c.Net()
		switch {
		case op == dsl.UnaryAbs && dt == tensor.UInt8:
			return ewOne(n.AddIdentity(x).Output(0)), nil
		case op == dsl.UnarySign:
			return ewOne(c.ewCastTo(c.ewUnary(c.ewCastTo(x, tensor.Int32), op), dt)), nil
		}
		neg := n.AddElementWise(c.scalarLike(0, x), x, dsl.ElementWiseSub).Output(0)
		if op == dsl.UnaryNeg {
			return ewOne(neg), nil
		}
		return ewOne(n.AddElementWise(x, neg, dsl.ElementWiseMax).Output(0)), nil
	}
}

// importIsInf: IsInf with detect_positive/detect_negative. With only one
// sign wanted, the test is x == +inf or x == -inf.
func importIsInf(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	pos, neg := c.AttrInt("detect_positive", 1) != 0, c.AttrInt("detect_negative", 1) != 0
	if !ewIsFloat(x) {
		return nil, c.Errorf(diag.TypeMismatch, "IsInf needs a float input; %q is %v", x.Name(), x.Type())
	}
	switch {
	case pos && neg:
		return ewOne(c.ewUnary(x, dsl.UnaryIsInf)), nil
	case pos:
		return ewOne(c.ewBinary(x, c.scalarLike(math.Inf(1), x), dsl.ElementWiseEqual)), nil
	case neg:
		return ewOne(c.ewBinary(x, c.scalarLike(math.Inf(-1), x), dsl.ElementWiseEqual)), nil
	}
	// Neither sign: every element is false (x > x is false, NaN included).
	return ewOne(c.ewBinary(x, x, dsl.ElementWiseGreater)), nil
}
