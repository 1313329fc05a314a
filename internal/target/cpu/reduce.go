package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerReduce, runReduce) }

func runReduce(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	rl := l.(*dsl.ReduceLayer)
	x := in[0]
	shape := x.Shape()
	axes, err := dsl.AxesFromMask(rl.ReduceAxes(), len(shape))
	if err != nil {
		return nil, layerErr(l, diag.InvalidNode, "%v", err)
	}
	kept := dsl.ReduceOutDims(shape, axes, true)
	outShape := dsl.ReduceOutDims(shape, axes, rl.KeepDimensions())
	nOut := tensor.Volume(kept)
	count := float64(1)
	for _, a := range axes {
		count *= float64(shape[a])
	}
	op, dt := rl.Operation(), x.DType()
	if dt.IsFloat() {
		acc := make([]float64, nOut)
		init := reduceFloatInit(op)
		for i := range acc {
			acc[i] = init
		}
		vals := x.AsFloat32()
		if outer, n, inner, ok := reduceSpan(shape, axes); ok {
			parallelFor(outer*inner, max(1, 4096/max(n, 1)), func(lo, hi int) {
				for r := lo; r < hi; r++ {
					base := (r/inner)*n*inner + r%inner
					a := acc[r]
					for j := 0; j < n; j++ {
						a = reduceFloatStep(op, a, float64(vals[base+j*inner]))
					}
					acc[r] = a
				}
			})
		} else {
			dst := reduceDest(shape, kept)
			for i, v := range vals {
				o := dst[i]
				acc[o] = reduceFloatStep(op, acc[o], float64(v))
			}
		}
		if op == dsl.ReduceAvg {
			for i := range acc {
				acc[i] /= count // 0/0 is NaN: TensorRT's empty average
			}
		}
		t, err := tensor.FromFloat64s(dt, outShape, acc)
		if err != nil {
			return nil, layerErr(l, diag.Internal, "%v", err)
		}
		return []*tensor.Tensor{t}, nil
	}
	acc := make([]int64, nOut)
	init := reduceIntInit(op, dt)
	for i := range acc {
		acc[i] = init
	}
	vals := x.Int64Values()
	dst := reduceDest(shape, kept)
	for i, v := range vals {
		o := dst[i]
		acc[o] = reduceIntStep(op, acc[o], v)
	}
	out := tensor.New(dt, outShape...)
	for i, v := range acc {
		if op == dsl.ReduceAvg {
			if count == 0 {
				v = 0
			} else {
				v /= int64(count)
			}
		}
		out.SetInt64(int64(i), wrapInt(dt, v))
	}
	return []*tensor.Tensor{out}, nil
}

// reduceDest maps every flat input index to its flat output index, where
// kept is the input shape with reduced axes set to 1 (any set of axes).
func reduceDest(shape, kept []int64) []int64 {
	// Strides of kept read "as if" of shape: reduced axes get stride 0.
	return broadcastIndex(shape, kept)[0]
}

func reduceFloatInit(op dsl.ReduceOperation) float64 {
	switch op {
	case dsl.ReduceProd:
		return 1
	case dsl.ReduceMax:
		return math.Inf(-1)
	case dsl.ReduceMin:
		return math.Inf(1)
	}
	return 0
}

// reduceFloatStep folds v into acc. Max and Min propagate NaN, as ONNX
// ReduceMax/ReduceMin do, so a NaN in the input is never hidden.
func reduceFloatStep(op dsl.ReduceOperation, acc, v float64) float64 {
	switch op {
	case dsl.ReduceProd:
		return acc * v
	case dsl.ReduceMax:
		if v > acc || v != v {
			return v
		}
		return acc
	case dsl.ReduceMin:
		if v < acc || v != v {
			return v
		}
		return acc
	}
	return acc + v
}

func reduceIntInit(op dsl.ReduceOperation, dt tensor.DataType) int64 {
	switch op {
	case dsl.ReduceProd:
		return 1
	case dsl.ReduceMax:
		if dt == tensor.Int32 {
			return math.MinInt32
		}
		return math.MinInt64
	case dsl.ReduceMin:
		if dt == tensor.Int32 {
			return math.MaxInt32
		}
		return math.MaxInt64
	}
	return 0
}

func reduceIntStep(op dsl.ReduceOperation, acc, v int64) int64 {
	switch op {
	case dsl.ReduceProd:
		return acc * v
	case dsl.ReduceMax:
		return max(acc, v)
	case dsl.ReduceMin:
		return min(acc, v)
	}
	return acc + v
}

// reduceSpan views shape as [outer, n, inner] when the reduced axes are
// consecutive (the common case: trailing axes, or one axis), so each output
// element folds n strided values and outputs run in parallel.
func reduceSpan(shape []int64, axes []int) (outer, n, inner int, ok bool) {
	if len(axes) == 0 || axes[len(axes)-1]-axes[0] != len(axes)-1 {
		return 0, 0, 0, false
	}
	outer, n, inner = 1, 1, 1
	for i, d := range shape {
		switch {
		case i < axes[0]:
			outer *= int(d)
		case i > axes[len(axes)-1]:
			inner *= int(d)
		default:
			n *= int(d)
		}
	}
	return outer, n, inner, true
}
