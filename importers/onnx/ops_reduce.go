package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// ONNX Reduce* ops. Each is a composition around one or two Reduce layers
// (TensorRT IReduceLayer): SumSquare, L1, L2, LogSum and LogSumExp add the
// pointwise steps of their ONNX function bodies, so a no-op reduction
// (noop_with_empty_axes with empty axes) gives what those bodies give
// (SumSquare: x², L1: |x|, LogSumExp: x ...).

// redKind is one ONNX Reduce* operator.
type redKind int

const (
	redSum redKind = iota
	redMean
	redMax
	redMin
	redProd
	redSumSquare
	redLogSumExp
	redLogSum
	redL1
	redL2
)

type redOpSpec struct {
	op    string
	kind  redKind
	since []int64 // every version whose semantics or types changed
	input int64   // the version from which axes is an input, not an attribute
	types string
}

const (
	redNumTypes = "float32, float16, bfloat16, int32, int64 (double, uint32/64 widened)"
	redMaxTypes = redNumTypes + ", int8, uint8 (opset 12+), bool (opset 20+)"
)

var redOps = []redOpSpec{
	{"ReduceSum", redSum, []int64{1, 11, 13}, 13, redNumTypes},
	{"ReduceMean", redMean, []int64{1, 11, 13, 18}, 18, redNumTypes},
	{"ReduceMax", redMax, []int64{1, 11, 12, 13, 18, 20}, 18, redMaxTypes},
	{"ReduceMin", redMin, []int64{1, 11, 12, 13, 18, 20}, 18, redMaxTypes},
	{"ReduceProd", redProd, []int64{1, 11, 13, 18}, 18, redNumTypes},
	{"ReduceSumSquare", redSumSquare, []int64{1, 11, 13, 18}, 18, redNumTypes},
	{"ReduceLogSumExp", redLogSumExp, []int64{1, 11, 13, 18}, 18, redNumTypes},
	{"ReduceLogSum", redLogSum, []int64{1, 11, 13, 18}, 18, redNumTypes},
	{"ReduceL1", redL1, []int64{1, 11, 13, 18}, 18, redNumTypes},
	{"ReduceL2", redL2, []int64{1, 11, 13, 18}, 18, redNumTypes},
}

func init() {
	for _, s := range redOps {
		for _, since := range s.since {
			restr := "axes given as a runtime tensor need a static rank; with keepdims=0 also a static number of axes; empty axes of unknown length are an error"
			if since < s.input {
				restr = ""
			}
			register(OpInfo{Op: s.op, Since: since, Types: s.types, Restrictions: restr}, importReduce(s.kind, since >= s.input))
		}
	}
}

// importReduce imports one Reduce* op; axesInput says whether axes come
// as input 1 (with noop_with_empty_axes) or as the axes attribute.
func importReduce(kind redKind, axesInput bool) importFunc {
	return func(c *nodeCtx) ([]*dsl.Tensor, error) {
		if err := redNeed(c, 0); err != nil {
			return nil, err
		}
		x := c.Input(0)
		if c.err != nil {
			return nil, c.err
		}
		r, err := redAxesFor(c, x, axesInput)
		if err != nil {
			return nil, err
		}
		out, err := r.compose(kind, x)
		if err != nil {
			return nil, err
		}
		return []*dsl.Tensor{out}, c.err
	}
}

// compose builds the op from Reduce layers and pointwise steps.
func (r *redAxes) compose(kind redKind, x *dsl.Tensor) (*dsl.Tensor, error) {
	c := r.c
	dt := x.Type()
	// TensorRT's Reduce takes floats, Int32 and Int64: narrower integers
	// and Bool go through Int32 (exact for Max/Min, the only ops ONNX
	// allows them for); the log/sqrt compositions need floats.
	work := dt
	switch {
	case dt == dsl.Bool && (kind == redMax || kind == redMin):
		work = dsl.Int32
	case dt == dsl.Int8 || dt == dsl.UInt8:
		work = dsl.Int32
	case dt == dsl.Bool || !(dt.IsFloat() || dt == dsl.Int32 || dt == dsl.Int64):
		return nil, c.Errorf(diag.TypeMismatch, "input %q is %v; %s takes numbers", x.Name(), dt, c.node.GetOpType())
	}
	if (kind == redL2 || kind == redLogSum || kind == redLogSumExp) && !dt.IsFloat() {
		work = dsl.Float32
	}
	x = redCast(c, x, work)
	var y *dsl.Tensor
	switch kind {
	case redSum:
		y = r.reduce(x, dsl.ReduceSum)
	case redMean:
		y = r.reduce(x, dsl.ReduceAvg)
	case redMax:
		y = r.reduce(x, dsl.ReduceMax)
	case redMin:
		y = r.reduce(x, dsl.ReduceMin)
	case redProd:
		y = r.reduce(x, dsl.ReduceProd)
	case redSumSquare:
		y = r.reduce(redEW(c, x, x, dsl.ElementWiseProd), dsl.ReduceSum)
	case redL1:
		y = r.reduce(redUnary(c, x, dsl.UnaryAbs), dsl.ReduceSum)
	case redL2:
		y = redUnary(c, r.reduce(redEW(c, x, x, dsl.ElementWiseProd), dsl.ReduceSum), dsl.UnarySqrt)
	case redLogSum:
		y = redUnary(c, r.reduce(x, dsl.ReduceSum), dsl.UnaryLog)
	case redLogSumExp:
		y = r.logSumExp(x)
	}
	y, err := r.finish(y)
	if err != nil {
		return nil, err
	}
	// Back to the input's type (Max/Min of Bools as 0/1 cast back exactly).
	return redCast(c, y, dt), nil
}

// logSumExp is max + log(sum(exp(x - max))), with an infinite max (all
// -inf, or a +inf present) replaced by 0 so no inf-inf NaN appears: the
// result is then log(sum(exp(x))) directly, which is -inf or +inf.
func (r *redAxes) logSumExp(x *dsl.Tensor) *dsl.Tensor {
	c := r.c
	m := r.reduce(x, dsl.ReduceMax)
	zero := redScalar(c, x.Type(), 0, m.Rank())
	m = redSelect(c, redUnary(c, m, dsl.UnaryIsInf), zero, m)
	e := redUnary(c, redEW(c, x, m, dsl.ElementWiseSub), dsl.UnaryExp)
	s := redUnary(c, r.reduce(e, dsl.ReduceSum), dsl.UnaryLog)
	return redEW(c, s, m, dsl.ElementWiseSum)
}
