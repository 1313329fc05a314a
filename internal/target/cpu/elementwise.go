package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerElementWise, runElementWise) }

func runElementWise(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	op := l.(*dsl.ElementWiseLayer).Operation()
	a, b := in[0], in[1]
	shape, err := runtimeBroadcast(l, a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	outType := a.DType()
	if op.IsComparison() {
		outType = tensor.Bool
	}
	out := tensor.New(outType, shape...)
	idx := broadcastIndex(shape, a.Shape(), b.Shape())
	n := out.Len()
	switch {
	case a.DType().IsFloat():
		av, bv := a.AsFloat32(), b.AsFloat32()
		f := floatBinary(op)
		for i := int64(0); i < n; i++ {
			out.SetFloat64(i, f(float64(av[idx[0][i]]), float64(bv[idx[1][i]])))
		}
	default: // integers and Bool
		f := intBinary(op)
		for i := int64(0); i < n; i++ {
			x, y := a.Int64At(idx[0][i]), b.Int64At(idx[1][i])
			if y == 0 && (op == dsl.ElementWiseDiv || op == dsl.ElementWiseFloorDiv) {
				return nil, layerErr(l, diag.OutOfRange, "integer division by zero at element %d of %q", idx[1][i], l.Input(1).Name())
			}
			out.SetInt64(i, wrapInt(outType, f(x, y)))
		}
	}
	return []*tensor.Tensor{out}, nil
}

// runtimeBroadcast checks concrete shapes (dynamic dims resolved) the same
// way the dsl checks declared dims.
func runtimeBroadcast(l dsl.Layer, a, b []int64) ([]int64, error) {
	d, err := dsl.BroadcastDims(a, b)
	if err != nil {
		return nil, layerErr(l, diag.ShapeMismatch, "at run time: %v", err)
	}
	return d, nil
}

func b2f(c bool) float64 {
	if c {
		return 1
	}
	return 0
}

func floatBinary(op dsl.ElementWiseOperation) func(x, y float64) float64 {
	switch op {
	case dsl.ElementWiseSum:
		return func(x, y float64) float64 { return x + y }
	case dsl.ElementWiseProd:
		return func(x, y float64) float64 { return x * y }
	case dsl.ElementWiseMax:
		return fmax
	case dsl.ElementWiseMin:
		return fmin
	case dsl.ElementWiseSub:
		return func(x, y float64) float64 { return x - y }
	case dsl.ElementWiseDiv:
		return func(x, y float64) float64 { return x / y }
	case dsl.ElementWisePow:
		return math.Pow
	case dsl.ElementWiseFloorDiv:
		return func(x, y float64) float64 { return math.Floor(x / y) }
	case dsl.ElementWiseEqual:
		return func(x, y float64) float64 { return b2f(x == y) }
	case dsl.ElementWiseGreater:
		return func(x, y float64) float64 { return b2f(x > y) }
	case dsl.ElementWiseLess:
		return func(x, y float64) float64 { return b2f(x < y) }
	}
	panic("elementwise op not defined on floats: " + op.String()) // the dsl rejects it
}

// fmax and fmin propagate NaN, as the GPU's max/min of TensorRT do.
func fmax(x, y float64) float64 {
	if x != x || y != y {
		return math.NaN()
	}
	return math.Max(x, y)
}

func fmin(x, y float64) float64 {
	if x != x || y != y {
		return math.NaN()
	}
	return math.Min(x, y)
}

func intBinary(op dsl.ElementWiseOperation) func(x, y int64) int64 {
	bi := func(c bool) int64 {
		if c {
			return 1
		}
		return 0
	}
	switch op {
	case dsl.ElementWiseSum:
		return func(x, y int64) int64 { return x + y }
	case dsl.ElementWiseProd:
		return func(x, y int64) int64 { return x * y }
	case dsl.ElementWiseMax:
		return func(x, y int64) int64 { return max(x, y) }
	case dsl.ElementWiseMin:
		return func(x, y int64) int64 { return min(x, y) }
	case dsl.ElementWiseSub:
		return func(x, y int64) int64 { return x - y }
	case dsl.ElementWiseDiv:
		return func(x, y int64) int64 { return x / y }
	case dsl.ElementWisePow:
		return ipow
	case dsl.ElementWiseFloorDiv:
		return func(x, y int64) int64 {
			q := x / y
			if x%y != 0 && (x < 0) != (y < 0) {
				q--
			}
			return q
		}
	case dsl.ElementWiseAnd:
		return func(x, y int64) int64 { return bi(x != 0 && y != 0) }
	case dsl.ElementWiseOr:
		return func(x, y int64) int64 { return bi(x != 0 || y != 0) }
	case dsl.ElementWiseXor:
		return func(x, y int64) int64 { return bi((x != 0) != (y != 0)) }
	case dsl.ElementWiseEqual:
		return func(x, y int64) int64 { return bi(x == y) }
	case dsl.ElementWiseGreater:
		return func(x, y int64) int64 { return bi(x > y) }
	case dsl.ElementWiseLess:
		return func(x, y int64) int64 { return bi(x < y) }
	}
	panic("unknown elementwise op " + op.String())
}

// ipow is integer power; negative exponents give 0 except for bases ±1.
func ipow(x, y int64) int64 {
	if y < 0 {
		switch x {
		case 1:
			return 1
		case -1:
			if y%2 == 0 {
				return 1
			}
			return -1
		}
		return 0
	}
	r := int64(1)
	for y > 0 {
		if y&1 == 1 {
			r *= x
		}
		x *= x
		y >>= 1
	}
	return r
}
