package cpu

import (
	"math"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerUnary, runUnary) }

func runUnary(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	op := l.(*dsl.UnaryLayer).Operation()
	x := in[0]
	n := x.Len()
	switch {
	case op == dsl.UnaryNot:
		out := tensor.New(tensor.Bool, x.Shape()...)
		src, dst := x.Bytes(), out.Bytes()
		for i := range dst {
			if src[i] == 0 {
				dst[i] = 1
			}
		}
		return []*tensor.Tensor{out}, nil
	case op == dsl.UnaryIsInf || op == dsl.UnaryIsNaN:
		out := tensor.New(tensor.Bool, x.Shape()...)
		src, dst := x.AsFloat32(), out.Bytes()
		for i, v := range src {
			f := float64(v)
			if (op == dsl.UnaryIsInf && math.IsInf(f, 0)) || (op == dsl.UnaryIsNaN && math.IsNaN(f)) {
				dst[i] = 1
			}
		}
		return []*tensor.Tensor{out}, nil
	case x.DType().IsInteger():
		out := tensor.New(x.DType(), x.Shape()...)
		for i := int64(0); i < n; i++ {
			out.SetInt64(i, wrapInt(x.DType(), unaryInt(op, x.Int64At(i))))
		}
		return []*tensor.Tensor{out}, nil
	}
	f := unaryFloat(op)
	src := x.AsFloat32()
	dst := make([]float32, len(src))
	parallelFor(len(src), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = float32(f(float64(src[i])))
		}
	})
	out, err := tensor.FromFloat32s(x.DType(), x.Shape(), dst)
	return []*tensor.Tensor{out}, err
}

// unaryInt is Abs, Neg or Sign on integers; the caller wraps the result to
// the element type (so -MinInt32 stays MinInt32, as on the GPU).
func unaryInt(op dsl.UnaryOperation, v int64) int64 {
	switch op {
	case dsl.UnaryAbs:
		if v < 0 {
			return -v
		}
		return v
	case dsl.UnaryNeg:
		return -v
	case dsl.UnarySign:
		return max(min(v, 1), -1)
	}
	panic("unary op not defined on integers: " + op.String()) // the dsl rejects it
}

// unaryFloat returns the scalar function of a float unary op, in float64.
func unaryFloat(op dsl.UnaryOperation) func(float64) float64 {
	switch op {
	case dsl.UnaryExp:
		return math.Exp
	case dsl.UnaryLog:
		return math.Log
	case dsl.UnarySqrt:
		return math.Sqrt
	case dsl.UnaryRecip:
		return func(x float64) float64 { return 1 / x }
	case dsl.UnaryAbs:
		return math.Abs
	case dsl.UnaryNeg:
		return func(x float64) float64 { return -x }
	case dsl.UnarySin:
		return math.Sin
	case dsl.UnaryCos:
		return math.Cos
	case dsl.UnaryTan:
		return math.Tan
	case dsl.UnarySinh:
		return math.Sinh
	case dsl.UnaryCosh:
		return math.Cosh
	case dsl.UnaryAsin:
		return math.Asin
	case dsl.UnaryAcos:
		return math.Acos
	case dsl.UnaryAtan:
		return math.Atan
	case dsl.UnaryAsinh:
		return math.Asinh
	case dsl.UnaryAcosh:
		return math.Acosh
	case dsl.UnaryAtanh:
		return math.Atanh
	case dsl.UnaryCeil:
		return math.Ceil
	case dsl.UnaryFloor:
		return math.Floor
	case dsl.UnaryErf:
		return math.Erf
	case dsl.UnarySign:
		return func(x float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return x // keeps ±0 and NaN
		}
	case dsl.UnaryRound:
		return math.RoundToEven
	}
	panic("unary op not defined on floats: " + op.String()) // the dsl rejects it
}
