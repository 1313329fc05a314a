package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// Binary elementwise ops with ONNX's multidirectional broadcasting:
// comparisons, logic, Pow, Mod and Where.

func init() {
	const numeric = "float32, float16, bfloat16, int8, uint8, int32, int64 (double, int16, uint16/32/64 widened)"
	cmp := []struct {
		op    string
		since []int64
		ew    dsl.ElementWiseOperation
		types string
	}{
		{"Equal", []int64{1, 7, 11, 13, 19}, dsl.ElementWiseEqual, numeric + ", bool"},
		{"Greater", []int64{1, 7, 9, 13}, dsl.ElementWiseGreater, numeric},
		{"Less", []int64{1, 7, 9, 13}, dsl.ElementWiseLess, numeric},
		{"And", []int64{1, 7}, dsl.ElementWiseAnd, "bool"},
		{"Or", []int64{1, 7}, dsl.ElementWiseOr, "bool"},
		{"Xor", []int64{1, 7}, dsl.ElementWiseXor, "bool"},
	}
	for _, e := range cmp {
		for _, since := range e.since {
			ewRegister(OpInfo{Op: e.op, Since: since, Types: e.types}, 2, importEwBinary(e.ew))
		}
	}
	for _, since := range []int64{12, 16} {
		ewRegister(OpInfo{Op: "GreaterOrEqual", Since: since, Types: numeric}, 2, importEwOrEqual(dsl.ElementWiseGreater))
		ewRegister(OpInfo{Op: "LessOrEqual", Since: since, Types: numeric}, 2, importEwOrEqual(dsl.ElementWiseLess))
	}
	for _, since := range []int64{1, 7, 12, 13, 15} {
		ewRegister(OpInfo{Op: "Pow", Since: since, Types: "float32, float16, bfloat16, int32, int64 base; any numeric exponent"}, 2, importPow)
	}
	for _, since := range []int64{10, 13} {
		ewRegister(OpInfo{Op: "Mod", Since: since, Types: numeric}, 2, importMod)
	}
	for _, since := range []int64{9, 16} {
		ewRegister(OpInfo{Op: "Where", Since: since, Types: "all tensor types"}, 3, importWhere)
	}
}

// importEwBinary imports a binary op (with the broadcast and axis
// attributes of opsets before 7).
func importEwBinary(op dsl.ElementWiseOperation) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		ab, err := c.ewBroadcast2(c.Input(0), c.Input(1))
		if err != nil {
			return nil, err
		}
		return ewOne(c.Net().AddElementWise(ab[0], ab[1], op).Output(0)), nil
	}
}

// importEwOrEqual: a >= b is (a > b) or (a == b), false where either is NaN
// (not(a < b) would be true there).
func importEwOrEqual(strict dsl.ElementWiseOperation) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		ab := c.Broadcast(c.Input(0), c.Input(1))
		n := c.Net()
		s := n.AddElementWise(ab[0], ab[1], strict).Output(0)
		e := n.AddElementWise(ab[0], ab[1], dsl.ElementWiseEqual).Output(0)
		return ewOne(n.AddElementWise(s, e, dsl.ElementWiseOr).Output(0)), nil
	}
}

// importPow: the output has the base's type. Exponents of another type
// are cast to it where that is exact (integer exponents of a float base,
// integers of another width); otherwise (a float exponent of an integer
// base, two float types) the power is taken in Float32 and cast back,
// truncating toward zero as ONNX's reference does for integer bases.
func importPow(c *nodeCtx) ([]*dsl.Tensor, error) {
	xy, err := c.ewBroadcast2(c.Input(0), c.Input(1))
	if err != nil {
		return nil, err
	}
	x, y := xy[0], xy[1]
	xt, yt := x.Type(), y.Type()
	switch {
	case xt == yt:
	case !yt.IsFloat():
		y = c.ewCastTo(y, xt)
	default:
		p := c.ewBinary(c.ewCastTo(x, tensor.Float32), c.ewCastTo(y, tensor.Float32), dsl.ElementWisePow)
		return ewOne(c.ewCastTo(p, xt)), nil
	}
	return ewOne(c.ewBinary(x, y, dsl.ElementWisePow)), nil
}

// importMod: fmod=0 is Python's modulo (the result has the divisor's
// sign): x - y*floor(x/y); fmod=1 is C's fmod (the dividend's sign):
// x - y*trunc(x/y). Integers use the exact integer divisions; Float16 and
// BFloat16 are computed in Float32 and rounded once.
func importMod(c *nodeCtx) ([]*dsl.Tensor, error) {
	fmod := c.AttrInt("fmod", 0)
	if fmod != 0 && fmod != 1 {
		return nil, c.Errorf(diag.UnsupportedAttr, "Mod fmod is %d; want 0 or 1", fmod)
	}
	ab := c.Broadcast(c.Input(0), c.Input(1))
	x, y := ab[0], ab[1]
	dt := x.Type()
	if dt == tensor.Bool || dt != y.Type() {
		return nil, c.Errorf(diag.TypeMismatch, "Mod needs two numeric inputs of one type; %q is %v, %q is %v", x.Name(), dt, y.Name(), y.Type())
	}
	if dt == tensor.Float16 || dt == tensor.BFloat16 {
		x, y = c.ewCastTo(x, tensor.Float32), c.ewCastTo(y, tensor.Float32)
	}
	n := c.Net()
	var q *dsl.Tensor
	switch {
	case !dt.IsFloat() && fmod == 1:
		q = n.AddElementWise(x, y, dsl.ElementWiseDiv).Output(0) // truncates
	case !dt.IsFloat():
		q = n.AddElementWise(x, y, dsl.ElementWiseFloorDiv).Output(0)
	case fmod == 0:
		q = c.ewUnary(n.AddElementWise(x, y, dsl.ElementWiseDiv).Output(0), dsl.UnaryFloor)
	default:
		// trunc(x/y): ceil below zero, floor above.
		d := n.AddElementWise(x, y, dsl.ElementWiseDiv).Output(0)
		neg := n.AddElementWise(d, c.scalarLike(0, d), dsl.ElementWiseLess).Output(0)
		q = n.AddSelect(neg, c.ewUnary(d, dsl.UnaryCeil), c.ewUnary(d, dsl.UnaryFloor)).Output(0)
	}
	prod := n.AddElementWise(y, q, dsl.ElementWiseProd).Output(0)
	r := n.AddElementWise(x, prod, dsl.ElementWiseSub).Output(0)
	return ewOne(c.ewCastTo(r, dt)), nil
}

// importWhere: a select with the three inputs brought to one rank.
func importWhere(c *nodeCtx) ([]*dsl.Tensor, error) {
	t := c.Broadcast(c.Input(0), c.Input(1), c.Input(2))
	return ewOne(c.Net().AddSelect(t[0], t[1], t[2]).Output(0)), nil
}
