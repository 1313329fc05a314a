package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// UnaryOperation selects the function of a UnaryLayer; values are
// TensorRT's nvinfer1::UnaryOperation.
type UnaryOperation int

const (
	UnaryExp   UnaryOperation = iota // e^x
	UnaryLog                         // ln(x)
	UnarySqrt                        // sqrt(x)
	UnaryRecip                       // 1/x
	UnaryAbs                         // |x| (floats, Int32, Int64)
	UnaryNeg                         // -x (floats, Int32, Int64)
	UnarySin                         // sin(x)
	UnaryCos                         // cos(x)
	UnaryTan                         // tan(x)
	UnarySinh                        // sinh(x)
	UnaryCosh                        // cosh(x)
	UnaryAsin                        // asin(x)
	UnaryAcos                        // acos(x)
	UnaryAtan                        // atan(x)
	UnaryAsinh                       // asinh(x)
	UnaryAcosh                       // acosh(x)
	UnaryAtanh                       // atanh(x)
	UnaryCeil                        // ceil(x)
	UnaryFloor                       // floor(x)
	UnaryErf                         // erf(x)
	UnaryNot                         // logical not (Bool only)
	UnarySign                        // 1, 0 or -1 (floats, Int32, Int64)
	UnaryRound                       // round half to even
	UnaryIsInf                       // x is ±infinity, output Bool
	UnaryIsNaN                       // x is NaN, output Bool
	numUnaryOps
)

var unaryNames = [...]string{"Exp", "Log", "Sqrt", "Recip", "Abs", "Neg", "Sin", "Cos", "Tan", "Sinh",
	"Cosh", "Asin", "Acos", "Atan", "Asinh", "Acosh", "Atanh", "Ceil", "Floor", "Erf", "Not", "Sign",
	"Round", "IsInf", "IsNaN"}

var _ = [1]struct{}{}[len(unaryNames)-int(numUnaryOps)]

func (o UnaryOperation) String() string {
	if o >= 0 && o < numUnaryOps {
		return unaryNames[o]
	}
	return fmt.Sprintf("UnaryOperation(%d)", int(o))
}

// AllUnaryOperations lists every unary op.
func AllUnaryOperations() []UnaryOperation {
	out := make([]UnaryOperation, numUnaryOps)
	for i := range out {
		out[i] = UnaryOperation(i)
	}
	return out
}

// TakesIntegers reports whether the op is defined on Int32 and Int64 too.
func (o UnaryOperation) TakesIntegers() bool {
	return o == UnaryAbs || o == UnaryNeg || o == UnarySign
}

// ReturnsBool reports whether the op's output is Bool.
func (o UnaryOperation) ReturnsBool() bool {
	return o == UnaryNot || o == UnaryIsInf || o == UnaryIsNaN
}

// UnaryLayer applies a pointwise function (TensorRT IUnaryLayer). The
// input is Float32, Float16 or BFloat16; Abs, Neg and Sign also take Int32
// and Int64; Not takes only Bool. IsInf and IsNaN return Bool, Not returns
// Bool, every other op returns the input's type. Dims are unchanged.
type UnaryLayer struct {
	layerBase
	op UnaryOperation
}

// AddUnary adds a unary pointwise layer.
func (n *Network) AddUnary(in *Tensor, op UnaryOperation) *UnaryLayer {
	l := &UnaryLayer{op: op}
	n.addLayer(l, LayerUnary, 1, 1, in)
	return l
}

func (l *UnaryLayer) Operation() UnaryOperation { return l.op }
func (l *UnaryLayer) SetOperation(op UnaryOperation) {
	l.op = op
	l.changed()
}

func (l *UnaryLayer) infer(c *inferCtx) {
	in := c.in(0)
	if l.op < 0 || l.op >= numUnaryOps {
		c.errorf(diag.InvalidNode, "unknown unary operation %d", int(l.op))
		return
	}
	dt := in.dtype
	switch {
	case l.op == UnaryNot:
		if dt != Bool {
			c.errorf(diag.TypeMismatch, "Not needs a Bool input; %q is %v", in.name, dt)
			return
		}
	case dt == Float32 || dt == Float16 || dt == BFloat16:
	case (dt == Int32 || dt == Int64) && l.op.TakesIntegers():
	case dt == Int32 || dt == Int64:
		c.errorf(diag.TypeMismatch, "unary %v needs a float input (float32, float16, bfloat16); %q is %v (only Abs, Neg and Sign take integers; Cast it first)", l.op, in.name, dt)
		return
	default:
		c.errorf(diag.TypeMismatch, "unary %v is not defined on %v (input %q); it takes float32, float16 or bfloat16%s", l.op, dt, in.name, unaryIntHint(l.op))
		return
	}
	out := dt
	if l.op.ReturnsBool() {
		out = Bool
	}
	c.setOutput(0, out, in.dims)
	// Shape arithmetic (negating or taking the sign of known sizes) stays known.
	if v, ok := c.values(0); ok && l.op.TakesIntegers() {
		res := make([]int64, len(v))
		for i, x := range v {
			switch l.op {
			case UnaryAbs:
				res[i] = max(x, -x)
			case UnaryNeg:
				res[i] = -x
			case UnarySign:
				res[i] = int64(max(min(x, 1), -1))
			}
			if dt == Int32 {
				res[i] = int64(int32(res[i]))
			}
		}
		c.setValues(0, res)
	}
}

func unaryIntHint(op UnaryOperation) string {
	if op.TakesIntegers() {
		return ", int32 or int64"
	}
	return ""
}
