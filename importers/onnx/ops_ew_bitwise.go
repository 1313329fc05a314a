package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// BitwiseAnd, BitwiseOr, BitwiseXor and BitwiseNot (opset 18), composed
// from integer arithmetic: TensorRT has no bitwise layers. Not is -1 - x
// (255 - x for UInt8). And, Or and Xor split both operands into bits along
// a new last axis (floor division by powers of two), combine the bits
// arithmetically and sum them back with their weights; the sign bit
// (weight -2^(w-1)) is x < 0. That costs w (32 or 64) times the elements
// of the output in intermediate tensors.

func init() {
	const types = "int8, uint8, int32, int64 (int16, uint16/32/64 widened)"
	for _, op := range []string{"BitwiseAnd", "BitwiseOr", "BitwiseXor"} {
		ewRegister(OpInfo{Op: op, Since: 18, Types: types,
			Restrictions: "composed of about 10 layers over a w-times larger intermediate (w = 32 or 64 bits)"}, 2, importBitwise(op))
	}
	ewRegister(OpInfo{Op: "BitwiseNot", Since: 18, Types: types,
		Restrictions: "uint16, uint32 and uint64 are widened to signed types, so their complement is the signed one (-1 - x)"}, 1, importBitwiseNot)
}

func importBitwiseNot(c *nodeCtx) ([]*dsl.Tensor, error) {
	x := c.Input(0)
	switch x.Type() {
	case tensor.UInt8:
		return ewOne(c.ewBinary(c.scalarLike(255, x), x, dsl.ElementWiseSub)), nil
	case tensor.Int8, tensor.Int32, tensor.Int64:
		return ewOne(c.ewBinary(c.scalarLike(-1, x), x, dsl.ElementWiseSub)), nil
	}
	return nil, c.Errorf(diag.TypeMismatch, "BitwiseNot takes integers; %q is %v", x.Name(), x.Type())
}

func importBitwise(op string) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		ab := c.Broadcast(c.Input(0), c.Input(1))
		a, b := ab[0], ab[1]
		dt := a.Type()
		if dt != b.Type() {
			return nil, c.Errorf(diag.TypeMismatch, "%s inputs have different types: %q is %v, %q is %v", op, a.Name(), dt, b.Name(), b.Type())
		}
		work := dt
		switch dt {
		case tensor.Int8, tensor.UInt8:
			work = tensor.Int32 // exact: sign- or zero-extended values
		case tensor.Int32, tensor.Int64:
		default:
			return nil, c.Errorf(diag.TypeMismatch, "%s takes integers; %q is %v", op, a.Name(), dt)
		}
		if a.Rank() >= 31 {
			return nil, c.Errorf(diag.UnsupportedAttr, "%s on rank %d tensors: the composition needs one more axis and a reduction over it (rank 30 at most)", op, a.Rank())
		}
		a, b = c.ewCastTo(a, work), c.ewCastTo(b, work)
		r := c.bitwiseCombine(op, c.bitwiseBits(a), c.bitwiseBits(b), work, a.Rank())
		return ewOne(c.ewCastTo(r, dt)), nil
	}
}

// bitwiseSplit is an integer as bits: low holds bits 0..w-2 along a new
// last axis (0 or 1 each), sign is 1 where the value is negative.
type bitwiseSplit struct{ low, sign *dsl.Tensor }

// bitwiseWidth is the bit count of Int32 or Int64.
func bitwiseWidth(dt dsl.DataType) int {
	if dt == tensor.Int64 {
		return 64
	}
	return 32
}

// bitwisePowers is [1, 2, 4, ..., 2^(w-2)] shaped [1, ..., 1, w-1] (rank r+1).
func (c *nodeCtx) bitwisePowers(dt dsl.DataType, r int) *dsl.Tensor {
	w := bitwiseWidth(dt)
	p := make([]int64, w-1)
	for k := range p {
		p[k] = 1 << k
	}
	shape := make([]int64, r+1)
	for i := range shape {
		shape[i] = 1
	}
	shape[r] = int64(w - 1)
	t, _ := tensor.FromInt64s(dt, shape, p)
	return c.Constant(t)
}

func (c *nodeCtx) bitwiseBits(x *dsl.Tensor) bitwiseSplit {
	n := c.Net()
	r := x.Rank()
	at, _ := tensor.FromInt64([]int64{1}, []int64{int64(r)})
	xu := n.AddUnsqueeze(x, c.Constant(at)).Output(0)
	q := n.AddElementWise(xu, c.bitwisePowers(x.Type(), r), dsl.ElementWiseFloorDiv).Output(0)
	two := c.ewScalar(2, x.Type(), r+1)
	half := n.AddElementWise(q, two, dsl.ElementWiseFloorDiv).Output(0)
	low := n.AddElementWise(q, n.AddElementWise(half, two, dsl.ElementWiseProd).Output(0), dsl.ElementWiseSub).Output(0)
	neg := n.AddElementWise(x, c.scalarLike(0, x), dsl.ElementWiseLess).Output(0)
	return bitwiseSplit{low: low, sign: n.AddCast(neg, x.Type()).Output(0)}
}

// bitwiseCombine applies op to bits (0/1 values: and = ab, or = a+b-ab,
// xor = a+b-2ab) and sums the result bits with their weights.
func (c *nodeCtx) bitwiseCombine(op string, a, b bitwiseSplit, dt dsl.DataType, r int) *dsl.Tensor {
	n := c.Net()
	bit := func(x, y *dsl.Tensor) *dsl.Tensor {
		prod := n.AddElementWise(x, y, dsl.ElementWiseProd).Output(0)
		if op == "BitwiseAnd" {
			return prod
		}
		sum := n.AddElementWise(x, y, dsl.ElementWiseSum).Output(0)
		k := 1.0
		if op == "BitwiseXor" {
			k = 2
		}
		scaled := n.AddElementWise(prod, c.ewScalar(k, dt, prod.Rank()), dsl.ElementWiseProd).Output(0)
		return n.AddElementWise(sum, scaled, dsl.ElementWiseSub).Output(0)
	}
	low := bit(a.low, b.low)
	weighted := n.AddElementWise(low, c.bitwisePowers(dt, r), dsl.ElementWiseProd).Output(0)
	value := n.AddReduce(weighted, dsl.ReduceSum, 1<<uint(r), false).Output(0)
	minInt := -math.Ldexp(1, bitwiseWidth(dt)-1)
	sign := n.AddElementWise(bit(a.sign, b.sign), c.ewScalar(minInt, dt, r), dsl.ElementWiseProd).Output(0)
	return n.AddElementWise(value, sign, dsl.ElementWiseSum).Output(0)
}
