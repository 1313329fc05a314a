package onnx

import (
	"math"
	"math/rand"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
	"github.com/trtc/trtc/tensor"
)

// Behaviour of the elementwise importers that the ONNX backend test data
// does not cover (newer ops, errors, edge cases). Expected values come
// from the formulas, computed here in float64.

func TestEwGeluMish(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	shape := []int64{2, 3, 4}
	v := ewRand(rng, 24)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
		x := ewFloats(t, dt, shape, v)
		xs := x.Float64s() // the rounded inputs
		erf, tanh, mish := make([]float64, 24), make([]float64, 24), make([]float64, 24)
		for i, a := range xs {
			erf[i] = 0.5 * a * (1 + math.Erf(a/math.Sqrt2))
			tanh[i] = 0.5 * a * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(a+0.044715*a*a*a)))
			mish[i] = a * math.Tanh(math.Log(1+math.Exp(a)))
		}
		ewCheck(t, ewMust(t, 20, "Gelu", 1, nil, ewIn(x))[0], dt, shape, erf)
		ewCheck(t, ewMust(t, 20, "Gelu", 1, []*onnxpb.AttributeProto{ewAttrString("approximate", "tanh")}, ewIn(x))[0], dt, shape, tanh)
		ewCheck(t, ewMust(t, 18, "Mish", 1, nil, ewIn(x))[0], dt, shape, mish)
	}
	ewWantErr(t, diag.UnsupportedAttr, "approximate", 20, "Gelu", 1,
		[]*onnxpb.AttributeProto{ewAttrString("approximate", "fast")}, ewIn(ewFloats(t, tensor.Float32, []int64{2}, []float64{1, 2})))
}

func TestEwBitwise(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	type tc struct {
		dt     tensor.DataType
		lo, hi int64
	}
	for _, c := range []tc{
		{tensor.Int32, math.MinInt32, math.MaxInt32},
		{tensor.Int64, math.MinInt64, math.MaxInt64},
		{tensor.Int8, -128, 127},
		{tensor.UInt8, 0, 255},
	} {
		// a is 2x3, b is 3 (broadcast); extremes included.
		a := []int64{c.lo, c.hi, -1, 5, 0x35, c.lo + 1}
		if c.lo == 0 {
			a[2] = 200
		}
		b := make([]int64, 3)
		for i := range b {
			b[i] = c.lo + rng.Int63n(max(c.hi/2, 1))*2 + 1 // odd, nonzero
		}
		b[0] = c.hi
		for i := range a {
			a[i] = max(min(a[i], c.hi), c.lo)
		}
		ta, tb := ewInts(t, c.dt, []int64{2, 3}, a), ewInts(t, c.dt, []int64{3}, b)
		for _, op := range []string{"BitwiseAnd", "BitwiseOr", "BitwiseXor"} {
			want := make([]float64, 6)
			for i := range want {
				x, y := a[i], b[i%3]
				switch op {
				case "BitwiseAnd":
					want[i] = float64(x & y)
				case "BitwiseOr":
					want[i] = float64(x | y)
				default:
					want[i] = float64(x ^ y)
				}
			}
			got := ewMust(t, 18, op, 1, nil, ewIn(ta), ewIn(tb))[0]
			// int64 results beyond 2^53 do not survive float64: compare exactly.
			gv := got.Int64Values()
			for i := range want {
				wi := int64(0)
				switch op {
				case "BitwiseAnd":
					wi = a[i] & b[i%3]
				case "BitwiseOr":
					wi = a[i] | b[i%3]
				default:
					wi = a[i] ^ b[i%3]
				}
				if got.DType() != c.dt || gv[i] != wi {
					t.Fatalf("%s %v: element %d is %d (%v), want %d", op, c.dt, i, gv[i], got.DType(), wi)
				}
			}
		}
		not := ewMust(t, 18, "BitwiseNot", 1, nil, ewIn(ta))[0].Int64Values()
		for i, x := range a {
			want := ^x
			if c.dt == tensor.UInt8 {
				want = int64(^uint8(x))
			}
			if not[i] != want {
				t.Fatalf("BitwiseNot %v: element %d is %d, want %d", c.dt, i, not[i], want)
			}
		}
	}
	ewWantErr(t, diag.TypeMismatch, "takes integers", 18, "BitwiseAnd", 1, nil,
		ewIn(ewFloats(t, tensor.Float32, []int64{2}, []float64{1, 2})), ewIn(ewFloats(t, tensor.Float32, []int64{2}, []float64{1, 2})))
}

func TestEwDropout(t *testing.T) {
	x := ewFloats(t, tensor.Float32, []int64{2, 2}, []float64{1, math.NaN(), -2, 3})
	got := ewMust(t, 13, "Dropout", 2, nil, ewIn(x))
	ewCheck(t, got[0], tensor.Float32, []int64{2, 2}, []float64{1, math.NaN(), -2, 3})
	ewCheck(t, got[1], tensor.Bool, []int64{2, 2}, []float64{1, 1, 1, 1})
	// Before opset 10 the mask has the input's type.
	got = ewMust(t, 7, "Dropout", 2, nil, ewIn(x))
	ewCheck(t, got[1], tensor.Float32, []int64{2, 2}, []float64{1, 1, 1, 1})
	ratio, _ := tensor.FromFloat32(nil, []float32{0.5})
	yes, _ := tensor.FromBool(nil, []bool{true})
	ewWantErr(t, diag.UnsupportedAttr, "training_mode is true", 13, "Dropout", 1, nil, ewIn(x), ewConst(ratio), ewConst(yes))
	ewWantErr(t, diag.UnsupportedAttr, "run time", 13, "Dropout", 1, nil, ewIn(x), ewConst(ratio), ewIn(yes))
	// Training mode with ratio 0 keeps everything.
	zero, _ := tensor.FromFloat32(nil, []float32{0})
	ewCheck(t, ewMust(t, 13, "Dropout", 1, nil, ewIn(x), ewConst(zero), ewConst(yes))[0], tensor.Float32, []int64{2, 2}, []float64{1, math.NaN(), -2, 3})
}

func TestEwClip(t *testing.T) {
	x := ewFloats(t, tensor.Float32, []int64{4}, []float64{-5, 0.5, 7, math.Inf(1)})
	lo, _ := tensor.FromFloat32(nil, []float32{1})
	hi, _ := tensor.FromFloat32(nil, []float32{-1})
	// min > max at run time: every value is max.
	ewCheck(t, ewMust(t, 13, "Clip", 1, nil, ewIn(x), ewIn(lo), ewIn(hi))[0], tensor.Float32, []int64{4}, []float64{-1, -1, -1, -1})
	// Known bounds, only an upper one: infinity below it is kept... and
	// clipped above.
	up, _ := tensor.FromFloat32(nil, []float32{2})
	ewCheck(t, ewMust(t, 13, "Clip", 1, nil, ewIn(x), ewArg{}, ewConst(up))[0], tensor.Float32, []int64{4}, []float64{-5, 0.5, 2, 2})
	// Opset 6 without attributes: no bound, infinity stays.
	ewCheck(t, ewMust(t, 6, "Clip", 1, nil, ewIn(x))[0], tensor.Float32, []int64{4}, []float64{-5, 0.5, 7, math.Inf(1)})
	ewCheck(t, ewMust(t, 6, "Clip", 1, []*onnxpb.AttributeProto{ewAttrFloat("min", 0), ewAttrFloat("max", 6)}, ewIn(x))[0],
		tensor.Float32, []int64{4}, []float64{0, 0.5, 6, 6})
	// Integers with known bounds.
	xi := ewInts(t, tensor.Int32, []int64{3}, []int64{-9, 3, 9})
	l, _ := tensor.FromInt32(nil, []int32{-2})
	h, _ := tensor.FromInt32(nil, []int32{4})
	ewCheck(t, ewMust(t, 13, "Clip", 1, nil, ewIn(xi), ewConst(l), ewConst(h))[0], tensor.Int32, []int64{3}, []float64{-2, 3, 4})
}

func TestEwModPow(t *testing.T) {
	x := ewFloats(t, tensor.Float32, []int64{4}, []float64{-7.5, 7.5, -7.5, 7.5})
	y := ewFloats(t, tensor.Float32, []int64{4}, []float64{2, -2, -2, 2})
	fm := []*onnxpb.AttributeProto{ewAttrInt("fmod", 1)}
	want := make([]float64, 4)
	py := make([]float64, 4)
	for i, a := range []float64{-7.5, 7.5, -7.5, 7.5} {
		b := []float64{2, -2, -2, 2}[i]
		want[i] = math.Mod(a, b)
		py[i] = a - b*math.Floor(a/b)
	}
	ewCheck(t, ewMust(t, 13, "Mod", 1, fm, ewIn(x), ewIn(y))[0], tensor.Float32, []int64{4}, want)
	ewCheck(t, ewMust(t, 13, "Mod", 1, nil, ewIn(x), ewIn(y))[0], tensor.Float32, []int64{4}, py)
	ewWantErr(t, diag.UnsupportedAttr, "fmod", 13, "Mod", 1, []*onnxpb.AttributeProto{ewAttrInt("fmod", 2)}, ewIn(x), ewIn(y))

	// An integer base with a fractional exponent: computed in float,
	// truncated back to the base's type.
	b := ewInts(t, tensor.Int32, []int64{3}, []int64{2, 9, 10})
	e := ewFloats(t, tensor.Float32, []int64{3}, []float64{0.5, 0.5, 1.5})
	ewCheck(t, ewMust(t, 15, "Pow", 1, nil, ewIn(b), ewIn(e))[0], tensor.Int32, []int64{3},
		[]float64{math.Trunc(math.Sqrt(2)), 3, math.Trunc(math.Pow(10, 1.5))})
	// A float16 base with a float32 exponent keeps float16.
	h := ewFloats(t, tensor.Float16, []int64{3}, []float64{1.5, 4, 2})
	ewCheck(t, ewMust(t, 15, "Pow", 1, nil, ewIn(h), ewIn(e))[0], tensor.Float16, []int64{3}, []float64{math.Sqrt(1.5), 2, math.Pow(2, 1.5)})
}

func TestEwLegacyBroadcast(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	xv, yv := ewRand(rng, 24), []float64{1, 2, 3}
	x := ewFloats(t, tensor.Float32, []int64{2, 3, 4}, xv)
	y := ewFloats(t, tensor.Float32, []int64{3}, yv)
	attrs := []*onnxpb.AttributeProto{ewAttrInt("broadcast", 1), ewAttrInt("axis", 1)}
	want := make([]float64, 24)
	for i := range want {
		want[i] = math.Pow(float64(float32(xv[i])), yv[(i/4)%3])
	}
	ewCheck(t, ewMust(t, 6, "Pow", 1, attrs, ewIn(x), ewIn(y))[0], tensor.Float32, []int64{2, 3, 4}, want)
	ewWantErr(t, diag.UnsupportedAttr, "axis", 6, "Pow", 1,
		[]*onnxpb.AttributeProto{ewAttrInt("broadcast", 1), ewAttrInt("axis", 3)}, ewIn(x), ewIn(y))
	// Opset 6 PRelu: a slope of C values is per channel.
	s := ewFloats(t, tensor.Float32, []int64{3}, []float64{0.1, 0.2, 0.3})
	for i := range want {
		a := float64(float32(xv[i]))
		want[i] = a
		if a < 0 {
			want[i] = a * float64(float32([]float64{0.1, 0.2, 0.3}[(i/4)%3]))
		}
	}
	ewCheck(t, ewMust(t, 6, "PRelu", 1, nil, ewIn(x), ewIn(s))[0], tensor.Float32, []int64{2, 3, 4}, want)
}

func TestEwIntegerForms(t *testing.T) {
	x := ewInts(t, tensor.Int32, []int64{4}, []int64{-3, 2, -1, 5})
	ewCheck(t, ewMust(t, 14, "Relu", 1, nil, ewIn(x))[0], tensor.Int32, []int64{4}, []float64{0, 2, 0, 5})
	s := ewInts(t, tensor.Int32, []int64{1}, []int64{3})
	ewCheck(t, ewMust(t, 16, "PRelu", 1, nil, ewIn(x), ewIn(s))[0], tensor.Int32, []int64{4}, []float64{-9, 2, -3, 5})
	sh := []*onnxpb.AttributeProto{ewAttrFloat("lambd", 1), ewAttrFloat("bias", 1)}
	ewCheck(t, ewMust(t, 9, "Shrink", 1, sh, ewIn(x))[0], tensor.Int32, []int64{4}, []float64{-2, 1, 0, 4})
	i8 := ewInts(t, tensor.Int8, []int64{3}, []int64{-5, 7, -128})
	ewCheck(t, ewMust(t, 13, "Abs", 1, nil, ewIn(i8))[0], tensor.Int8, []int64{3}, []float64{5, 7, -128}) // wraps, as numpy
	ewCheck(t, ewMust(t, 13, "Neg", 1, nil, ewIn(i8))[0], tensor.Int8, []int64{3}, []float64{5, -7, -128})
	u8 := ewInts(t, tensor.UInt8, []int64{2}, []int64{200, 3})
	ewCheck(t, ewMust(t, 13, "Abs", 1, nil, ewIn(u8))[0], tensor.UInt8, []int64{2}, []float64{200, 3})
	ewCheck(t, ewMust(t, 13, "Sign", 1, nil, ewIn(u8))[0], tensor.UInt8, []int64{2}, []float64{1, 1})
	ewCheck(t, ewMust(t, 13, "Sign", 1, nil, ewIn(i8))[0], tensor.Int8, []int64{3}, []float64{-1, 1, -1})
}

func TestEwComparisons(t *testing.T) {
	nan := math.NaN()
	a := ewFloats(t, tensor.Float32, []int64{2, 2}, []float64{1, nan, 3, 2})
	b := ewFloats(t, tensor.Float32, []int64{2}, []float64{1, 2})
	ewCheck(t, ewMust(t, 16, "GreaterOrEqual", 1, nil, ewIn(a), ewIn(b))[0], tensor.Bool, []int64{2, 2}, []float64{1, 0, 1, 1})
	ewCheck(t, ewMust(t, 16, "LessOrEqual", 1, nil, ewIn(a), ewIn(b))[0], tensor.Bool, []int64{2, 2}, []float64{1, 0, 0, 1})
	none := []*onnxpb.AttributeProto{ewAttrInt("detect_positive", 0), ewAttrInt("detect_negative", 0)}
	inf := ewFloats(t, tensor.Float32, []int64{3}, []float64{math.Inf(1), math.Inf(-1), nan})
	ewCheck(t, ewMust(t, 10, "IsInf", 1, none, ewIn(inf))[0], tensor.Bool, []int64{3}, []float64{0, 0, 0})
	// Where with condition, then and else of three ranks.
	cond, _ := tensor.FromBool([]int64{2, 1}, []bool{true, false})
	then := ewFloats(t, tensor.Float32, []int64{3}, []float64{1, 2, 3})
	els := ewFloats(t, tensor.Float32, nil, []float64{-1})
	ewCheck(t, ewMust(t, 16, "Where", 1, nil, ewIn(cond), ewIn(then), ewIn(els))[0], tensor.Float32, []int64{2, 3}, []float64{1, 2, 3, -1, -1, -1})
}

func TestEwVariadic(t *testing.T) {
	a := ewFloats(t, tensor.Float32, []int64{2, 2}, []float64{1, 2, 3, 4})
	b := ewFloats(t, tensor.Float32, []int64{2}, []float64{10, -10})
	c := ewFloats(t, tensor.Float32, nil, []float64{0.5})
	ewCheck(t, ewMust(t, 13, "Sum", 1, nil, ewIn(a), ewIn(b), ewIn(c))[0], tensor.Float32, []int64{2, 2}, []float64{11.5, -7.5, 13.5, -5.5})
	ewCheck(t, ewMust(t, 13, "Mean", 1, nil, ewIn(a), ewIn(b), ewIn(c))[0], tensor.Float32, []int64{2, 2}, []float64{11.5 / 3, -7.5 / 3, 13.5 / 3, -5.5 / 3})
	ewCheck(t, ewMust(t, 13, "Max", 1, nil, ewIn(a), ewIn(b), ewIn(c))[0], tensor.Float32, []int64{2, 2}, []float64{10, 2, 10, 4})
	ewCheck(t, ewMust(t, 13, "Min", 1, nil, ewIn(a))[0], tensor.Float32, []int64{2, 2}, []float64{1, 2, 3, 4})
}

func TestEwErrors(t *testing.T) {
	x := ewFloats(t, tensor.Float32, []int64{2}, []float64{1, 2})
	ewWantErr(t, diag.UnsupportedAttr, "STRING", 13, "Cast", 1, []*onnxpb.AttributeProto{ewAttrInt("to", 8)}, ewIn(x))
	ewWantErr(t, diag.UnsupportedAttr, "quantized", 19, "Cast", 1, []*onnxpb.AttributeProto{ewAttrInt("to", 22)}, ewIn(x))
	ewWantErr(t, diag.InvalidNode, "\"to\"", 13, "Cast", 1, nil, ewIn(x))
	ewWantErr(t, diag.InvalidNode, "ONNX type name", 1, "Cast", 1, []*onnxpb.AttributeProto{ewAttrString("to", "REAL")}, ewIn(x))
	// Opset 1 names the type.
	ewCheck(t, ewMust(t, 1, "Cast", 1, []*onnxpb.AttributeProto{ewAttrString("to", "INT32")}, ewIn(x))[0], tensor.Int32, []int64{2}, []float64{1, 2})
	ewWantErr(t, diag.UnsupportedAttr, "direction", 11, "BitShift", 1, []*onnxpb.AttributeProto{ewAttrString("direction", "UP")},
		ewIn(ewInts(t, tensor.UInt8, []int64{1}, []int64{1})), ewIn(ewInts(t, tensor.UInt8, []int64{1}, []int64{1})))
	ewWantErr(t, diag.UnsupportedAttr, "alpha", 12, "Celu", 1, []*onnxpb.AttributeProto{ewAttrFloat("alpha", 0)}, ewIn(x))
	ewWantErr(t, diag.TypeMismatch, "float input", 13, "Sigmoid", 1, nil, ewIn(ewInts(t, tensor.Int32, []int64{1}, []int64{1})))
	ewWantErr(t, diag.InvalidNode, "input 1 is missing", 15, "Pow", 1, nil, ewIn(x), ewArg{})
	ewWantErr(t, diag.InvalidNode, "input 1 is empty", 13, "Sum", 1, nil, ewIn(x), ewArg{}, ewIn(x))
	ewWantErr(t, diag.ShapeMismatch, "slope", 16, "PRelu", 1, nil, ewIn(x), ewIn(ewFloats(t, tensor.Float32, []int64{1, 2}, []float64{1, 2})))
}

// Dims known only at run time flow through the compositions.
func TestEwDynamicDims(t *testing.T) {
	x := ewFloats(t, tensor.Float32, []int64{2, 3}, []float64{-1, 2, -3, 4, -5, 6})
	got := ewMust(t, 13, "Dropout", 2, nil, ewDyn(x))
	ewCheck(t, got[1], tensor.Bool, []int64{2, 3}, []float64{1, 1, 1, 1, 1, 1})
	ewCheck(t, ewMust(t, 9, "Shrink", 1, []*onnxpb.AttributeProto{ewAttrFloat("lambd", 2.5)}, ewDyn(x))[0],
		tensor.Float32, []int64{2, 3}, []float64{0, 0, -3, 4, -5, 6})
	a := ewInts(t, tensor.Int32, []int64{2, 3}, []int64{-7, 12, 5, -1, 100, 3})
	b := ewInts(t, tensor.Int32, []int64{3}, []int64{6, -3, 9})
	want := make([]float64, 6)
	for i, v := range []int64{-7, 12, 5, -1, 100, 3} {
		want[i] = float64(v ^ []int64{6, -3, 9}[i%3])
	}
	ewCheck(t, ewMust(t, 18, "BitwiseXor", 1, nil, ewDyn(a), ewDyn(b))[0], tensor.Int32, []int64{2, 3}, want)
}
