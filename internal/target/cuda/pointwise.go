package cuda

import (
	"fmt"
	"strconv"

	"github.com/trtc/trtc/dsl"
)

// flit writes a float32 constant exactly, as a C hex float literal.
func flit(v float32) string {
	switch {
	case v != v:
		return "__int_as_float(0x7fc00000)"
	case v > 3.4e38:
		return "__int_as_float(0x7f800000)"
	case v < -3.4e38:
		return "__int_as_float(0xff800000)"
	}
	return strconv.FormatFloat(float64(v), 'x', -1, 32) + "f"
}

// pointwiseExpr returns the C expression a pointwise layer computes from
// its loaded inputs x0, x1, x2 (in their compute types), and the output's
// compute type, or ok=false when the layer has no generated kernel.
func pointwiseExpr(l dsl.Layer) (expr string, ok bool) {
	in := make([]dsl.DataType, l.NbInputs())
	for i := range in {
		in[i] = l.Input(i).Type()
	}
	out := l.Output(0).Type()
	float := len(in) > 0 && isFloat(in[0])
	switch l := l.(type) {
	case *dsl.ElementWiseLayer:
		ops := intElementWise
		if float {
			ops = floatElementWise
		}
		if f, ok := ops[l.Operation()]; ok {
			return fmt.Sprintf(f, "x0", "x1"), true
		}
		// Integer division by zero is an error on the CPU engine; those
		// stay there.
		return "", false
	case *dsl.UnaryLayer:
		x := "x0"
		if !float {
			switch l.Operation() {
			case dsl.UnaryAbs:
				return "(x0 < 0 ? -x0 : x0)", true
			case dsl.UnaryNeg:
				return "-x0", true
			case dsl.UnarySign:
				return "(i64)((x0 > 0) - (x0 < 0))", true
			case dsl.UnaryNot:
				return "(i64)(x0 == 0)", true
			}
			return "", false
		}
		fn := map[dsl.UnaryOperation]string{
			dsl.UnaryExp: "expf", dsl.UnaryLog: "logf", dsl.UnarySqrt: "sqrtf", dsl.UnaryAbs: "fabsf",
			dsl.UnarySin: "sinf", dsl.UnaryCos: "cosf", dsl.UnaryTan: "tanf", dsl.UnarySinh: "sinhf", dsl.UnaryCosh: "coshf",
			dsl.UnaryAsin: "asinf", dsl.UnaryAcos: "acosf", dsl.UnaryAtan: "atanf", dsl.UnaryAsinh: "asinhf",
			dsl.UnaryAcosh: "acoshf", dsl.UnaryAtanh: "atanhf", dsl.UnaryCeil: "ceilf", dsl.UnaryFloor: "floorf",
			dsl.UnaryErf: "erff", dsl.UnaryRound: "rne",
		}
		if f, ok := fn[l.Operation()]; ok {
			return f + "(" + x + ")", true
		}
		switch l.Operation() {
		case dsl.UnaryRecip:
			return "1.0f / x0", true
		case dsl.UnaryNeg:
			return "-x0", true
		case dsl.UnarySign:
			return "(x0 > 0.f ? 1.f : (x0 < 0.f ? -1.f : x0))", true
		case dsl.UnaryIsInf:
			return "(i64)isinf(x0)", true
		case dsl.UnaryIsNaN:
			return "(i64)(x0 != x0)", true
		}
		return "", false
	case *dsl.ActivationLayer:
		if !float {
			return "", false
		}
		al, be := flit(l.Alpha()), flit(l.Beta())
		switch l.ActivationType() {
		case dsl.ActivationReLU:
			return "(x0 > 0.f || x0 != x0 ? x0 : 0.f)", true
		case dsl.ActivationSigmoid:
			return "1.f / (1.f + expf(-x0))", true
		case dsl.ActivationTanh:
			return "tanhf(x0)", true
		case dsl.ActivationLeakyReLU:
			return "(x0 >= 0.f ? x0 : " + al + " * x0)", true
		case dsl.ActivationELU:
			return "(x0 >= 0.f ? x0 : " + al + " * (expf(x0) - 1.f))", true
		case dsl.ActivationSELU:
			return "(x0 > 0.f ? " + be + " * x0 : " + be + " * (" + al + " * expf(x0) - " + al + "))", true
		case dsl.ActivationSoftsign:
			return "x0 / (1.f + fabsf(x0))", true
		case dsl.ActivationSoftplus:
			return al + " * log1pf(expf(" + be + " * x0))", true
		case dsl.ActivationClip:
			return "fmaxf(" + al + ", fminf(" + be + ", x0))", true
		case dsl.ActivationHardSigmoid:
			return "fmaxf(0.f, fminf(1.f, " + al + " * x0 + " + be + "))", true
		case dsl.ActivationScaledTanh:
			return al + " * tanhf(" + be + " * x0)", true
		case dsl.ActivationThresholdedReLU:
			return "(x0 > " + al + " ? x0 : 0.f)", true
		case dsl.ActivationGeluErf:
			return "0.5f * x0 * (1.f + erff(x0 * 0.70710678118654752f))", true
		case dsl.ActivationGeluTanh:
			return "0.5f * x0 * (1.f + tanhf(0.79788456080286536f * (x0 + 0.044715f * x0 * x0 * x0)))", true
		}
		return "", false
	case *dsl.CastLayer:
		return castExpr(in[0], out), true
	case *dsl.IdentityLayer:
		return castExpr(in[0], out), true
	case *dsl.SelectLayer:
		return "(x0 ? x1 : x2)", true
	case *dsl.ParametricReLULayer:
		if !float {
			return "", false
		}
		return "(x0 >= 0.f ? x0 : x1 * x0)", true
	}
	return "", false
}

// The elementwise operations as C formats of x0 (%[1]s) and x1 (%[2]s),
// for float and for integer inputs: float max and min propagate NaN, as
// the CPU engine does; comparisons give i64.
var (
	commonElementWise = map[dsl.ElementWiseOperation]string{
		dsl.ElementWiseSum:     "%[1]s + %[2]s",
		dsl.ElementWiseProd:    "%[1]s * %[2]s",
		dsl.ElementWiseSub:     "%[1]s - %[2]s",
		dsl.ElementWiseEqual:   "(i64)(%[1]s == %[2]s)",
		dsl.ElementWiseGreater: "(i64)(%[1]s > %[2]s)",
		dsl.ElementWiseLess:    "(i64)(%[1]s < %[2]s)",
	}
	floatElementWise = withCommon(map[dsl.ElementWiseOperation]string{
		dsl.ElementWiseMax:      "((%[1]s > %[2]s || %[1]s != %[1]s) ? %[1]s : %[2]s)",
		dsl.ElementWiseMin:      "((%[1]s < %[2]s || %[1]s != %[1]s) ? %[1]s : %[2]s)",
		dsl.ElementWiseDiv:      "%[1]s / %[2]s",
		dsl.ElementWisePow:      "powf(%[1]s, %[2]s)",
		dsl.ElementWiseFloorDiv: "floorf(%[1]s / %[2]s)",
	})
	intElementWise = withCommon(map[dsl.ElementWiseOperation]string{
		dsl.ElementWiseMax: "(%[1]s > %[2]s ? %[1]s : %[2]s)",
		dsl.ElementWiseMin: "(%[1]s < %[2]s ? %[1]s : %[2]s)",
		dsl.ElementWiseAnd: "(i64)(%[1]s && %[2]s)",
		dsl.ElementWiseOr:  "(i64)(%[1]s || %[2]s)",
		dsl.ElementWiseXor: "(i64)((%[1]s != 0) != (%[2]s != 0))",
	})
)

func withCommon(m map[dsl.ElementWiseOperation]string) map[dsl.ElementWiseOperation]string {
	for op, f := range commonElementWise {
		m[op] = f
	}
	return m
}

// castExpr converts x0 from in's compute type to out's: floats to ints
// truncate and saturate (NaN gives 0), ints clamp, anything to Bool is
// "not zero", as the CPU engine does.
func castExpr(in, out dsl.DataType) string {
	switch {
	case out == dsl.Bool:
		return "(i64)(x0 != 0)"
	case isFloat(out):
		if isFloat(in) {
			return "x0"
		}
		return "(float)x0"
	case isFloat(in):
		lo, hi := intRange(out)
		return fmt.Sprintf("f2i(x0, %s, %s)", lo, hi)
	}
	lo, hi := intRange(out)
	return fmt.Sprintf("(x0 < %s ? %s : (x0 > %s ? %s : x0))", lo, lo, hi, hi)
}

// broadcastMeta is the metadata of a pointwise kernel: the output's dims
// collapsed with every input's broadcast strides (see collapseDims), the
// rank and dims, then per input its index mode and strides.
func broadcastMeta(out []int64, ins [][]int64) []int64 {
	strides := make([][]int64, len(ins))
	for j, in := range ins {
		strides[j] = broadcastStrides(out, in)
	}
	dims, cs := collapseDims(out, strides...)
	meta := []int64{int64(len(dims))}
	meta = append(meta, dims...)
	for _, s := range cs {
		meta = append(meta, indexMode(dims, s))
		meta = append(meta, s...)
	}
	return meta
}
