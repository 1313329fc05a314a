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
	p := newPerfRows(shape, a.Shape(), b.Shape())
	var out *tensor.Tensor
	switch {
	case outType == tensor.Float32 && b.DType() == tensor.Float32:
		dst := make([]float32, tensor.Volume(shape))
		ewFloat32(op, &p, dst, a.Float32s(), b.Float32s())
		out, err = tensor.FromFloat32(shape, dst)
	case a.DType().IsFloat():
		// Other float types and comparisons compute in float64 and round
		// once on store, as SetFloat64 does.
		av, bv := a.AsFloat32(), b.AsFloat32()
		f := floatBinary(op)
		vals := make([]float64, tensor.Volume(shape))
		parallelFor(p.rows, max(1, (1<<14)/max(p.n, 1)), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				oa, ob := p.offsets(r)
				row := vals[r*p.n : (r+1)*p.n]
				for i := range row {
					row[i] = f(float64(av[oa+i*p.inner[0]]), float64(bv[ob+i*p.inner[1]]))
				}
			}
		})
		out, err = tensor.FromFloat64s(outType, shape, vals)
	default: // integers and Bool, in order so the first division by zero is reported
		out = tensor.New(outType, shape...)
		f := intBinary(op)
		for r := 0; r < p.rows; r++ {
			oa, ob := p.offsets(r)
			for i := 0; i < p.n; i++ {
				ib := int64(ob + i*p.inner[1])
				x, y := a.Int64At(int64(oa+i*p.inner[0])), b.Int64At(ib)
				if y == 0 && (op == dsl.ElementWiseDiv || op == dsl.ElementWiseFloorDiv) {
					return nil, layerErr(l, diag.OutOfRange, "integer division by zero at element %d of %q", ib, l.Input(1).Name())
				}
				out.SetInt64(int64(r*p.n+i), wrapInt(outType, f(x, y)))
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return []*tensor.Tensor{out}, nil
}

// ewFloat32 computes a Float32 elementwise operation row by row, in
// parallel. Sum, Sub, Prod and Div round the float32 operation directly:
// that equals rounding the float64 result of the float32 operands (float64
// holds every such result to more than twice float32's precision), so the
// values match the float64 path bit for bit.
func ewFloat32(op dsl.ElementWiseOperation, p *perfRows, dst, av, bv []float32) {
	f := floatBinary(op)
	parallelFor(p.rows, max(1, (1<<14)/max(p.n, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			oa, ob := p.offsets(r)
			row := dst[r*p.n : (r+1)*p.n]
			x, y := av[oa:], bv[ob:]
			sx, sy := p.inner[0], p.inner[1]
			switch op {
			case dsl.ElementWiseSum:
				for i := range row {
					row[i] = x[i*sx] + y[i*sy]
				}
			case dsl.ElementWiseSub:
				for i := range row {
					row[i] = x[i*sx] - y[i*sy]
				}
			case dsl.ElementWiseProd:
				for i := range row {
					row[i] = x[i*sx] * y[i*sy]
				}
			case dsl.ElementWiseDiv:
				for i := range row {
					row[i] = x[i*sx] / y[i*sy]
				}
			default:
				for i := range row {
					row[i] = float32(f(float64(x[i*sx]), float64(y[i*sy])))
				}
			}
		}
	})
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
