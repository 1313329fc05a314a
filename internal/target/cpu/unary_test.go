package cpu

import (
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// unaryWant are the expected functions, written independently of unary.go
// where a textbook identity exists, with each op's input range.
var unaryWant = map[dsl.UnaryOperation]struct {
	f      func(float64) float64
	lo, hi float64
}{
	dsl.UnaryExp:   {func(x float64) float64 { return math.Pow(math.E, x) }, -3, 3},
	dsl.UnaryLog:   {func(x float64) float64 { return math.Log2(x) / math.Log2(math.E) }, 0.1, 5},
	dsl.UnarySqrt:  {func(x float64) float64 { return math.Pow(x, 0.5) }, 0.1, 5},
	dsl.UnaryRecip: {func(x float64) float64 { return 1 / x }, 0.5, 3},
	dsl.UnaryAbs: {func(x float64) float64 {
		if x < 0 {
			return -x
		}
		return x
	}, -3, 3},
	dsl.UnaryNeg:   {func(x float64) float64 { return 0 - x }, -3, 3},
	dsl.UnarySin:   {math.Sin, -3, 3},
	dsl.UnaryCos:   {func(x float64) float64 { return math.Sin(x + math.Pi/2) }, -3, 3},
	dsl.UnaryTan:   {func(x float64) float64 { return math.Sin(x) / math.Cos(x) }, -1.2, 1.2},
	dsl.UnarySinh:  {func(x float64) float64 { return (math.Exp(x) - math.Exp(-x)) / 2 }, -3, 3},
	dsl.UnaryCosh:  {func(x float64) float64 { return (math.Exp(x) + math.Exp(-x)) / 2 }, -3, 3},
	dsl.UnaryAsin:  {func(x float64) float64 { return math.Atan(x / math.Sqrt(1-x*x)) }, -0.9, 0.9},
	dsl.UnaryAcos:  {func(x float64) float64 { return math.Pi/2 - math.Atan(x/math.Sqrt(1-x*x)) }, -0.9, 0.9},
	dsl.UnaryAtan:  {math.Atan, -3, 3},
	dsl.UnaryAsinh: {func(x float64) float64 { return math.Log(x + math.Sqrt(x*x+1)) }, -3, 3},
	dsl.UnaryAcosh: {func(x float64) float64 { return math.Log(x + math.Sqrt(x*x-1)) }, 1.1, 5},
	dsl.UnaryAtanh: {func(x float64) float64 { return 0.5 * math.Log((1+x)/(1-x)) }, -0.9, 0.9},
	dsl.UnaryCeil:  {func(x float64) float64 { return -math.Floor(-x) }, -3, 3},
	dsl.UnaryFloor: {func(x float64) float64 { return float64(int64(x+100)) - 100 }, -3, 3},
	dsl.UnaryErf:   {math.Erf, -2, 2},
	dsl.UnarySign: {func(x float64) float64 {
		if x > 0 {
			return 1
		}
		return -1
	}, -3, 3},
	dsl.UnaryRound: {math.RoundToEven, -3, 3},
}

func TestUnaryEveryFloatOp(t *testing.T) {
	rng := newRNG(11)
	for _, op := range dsl.AllUnaryOperations() {
		if op.ReturnsBool() {
			continue
		}
		w, ok := unaryWant[op]
		if !ok {
			t.Fatalf("no expected function for %v", op)
		}
		for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
			t.Run(op.String()+"/"+dt.String(), func(t *testing.T) {
				shape := []int64{3, 7}
				x := mustTensor(t, dt, shape, randFloats(rng, 21, w.lo, w.hi))
				xs := x.Float64s()
				net := dsl.NewNetwork()
				in := net.AddInput("x", dt, dsl.Dims{-1, 7})
				l := net.AddUnary(in, op)
				net.MarkOutput(l.Output(0))
				got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
				want := make([]float64, len(xs))
				for i, v := range xs {
					want[i] = w.f(v)
				}
				checkClose(t, got, shape, roundTo(dt, want), 1)
			})
		}
	}
}

func TestUnaryRoundHalfToEvenAndSpecials(t *testing.T) {
	xs := []float64{0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6}
	want := []float64{0, 2, 2, 0, -2, -2, 2, 3}
	net := dsl.NewNetwork()
	in := net.AddInput("x", dsl.Float32, dsl.Dims{8})
	l := net.AddUnary(in, dsl.UnaryRound)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"x": mustTensor(t, dsl.Float32, []int64{8}, xs)})[l.Output(0).Name()]
	checkClose(t, got, []int64{8}, want, 1)
}

func TestUnaryIsInfIsNaN(t *testing.T) {
	inf := math.Inf(1)
	xs := []float64{1, inf, -inf, math.NaN(), 0, -2}
	want := map[dsl.UnaryOperation][]int64{
		dsl.UnaryIsInf: {0, 1, 1, 0, 0, 0},
		dsl.UnaryIsNaN: {0, 0, 0, 1, 0, 0},
	}
	for op, w := range want {
		for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
			net := dsl.NewNetwork()
			in := net.AddInput("x", dt, dsl.Dims{6})
			l := net.AddUnary(in, op)
			net.MarkOutput(l.Output(0))
			got := runNet(t, net, map[string]*tensor.Tensor{"x": mustTensor(t, dt, []int64{6}, xs)})[l.Output(0).Name()]
			if got.DType() != tensor.Bool || !equalInts(got.Int64Values(), w) {
				t.Errorf("%v/%v: got %v %v, want bool %v", op, dt, got.DType(), got.Int64Values(), w)
			}
		}
	}
}

func TestUnaryNot(t *testing.T) {
	net := dsl.NewNetwork()
	in := net.AddInput("x", dsl.Bool, dsl.Dims{4})
	l := net.AddUnary(in, dsl.UnaryNot)
	net.MarkOutput(l.Output(0))
	x, _ := tensor.FromBool([]int64{4}, []bool{true, false, false, true})
	got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
	if !equalInts(got.Int64Values(), []int64{0, 1, 1, 0}) {
		t.Fatalf("got %v", got.Int64Values())
	}
}

func TestUnaryIntegers(t *testing.T) {
	xs := []int64{5, -3, 0, math.MinInt32, math.MaxInt32}
	want := map[dsl.UnaryOperation]map[tensor.DataType][]int64{
		dsl.UnaryAbs: {
			tensor.Int32: {5, 3, 0, math.MinInt32, math.MaxInt32}, // |MinInt32| wraps
			tensor.Int64: {5, 3, 0, -math.MinInt32, math.MaxInt32},
		},
		dsl.UnaryNeg: {
			tensor.Int32: {-5, 3, 0, math.MinInt32, -math.MaxInt32},
			tensor.Int64: {-5, 3, 0, -math.MinInt32, -math.MaxInt32},
		},
		dsl.UnarySign: {
			tensor.Int32: {1, -1, 0, -1, 1},
			tensor.Int64: {1, -1, 0, -1, 1},
		},
	}
	for op, byType := range want {
		for dt, w := range byType {
			net := dsl.NewNetwork()
			in := net.AddInput("x", dt, dsl.Dims{5})
			l := net.AddUnary(in, op)
			net.MarkOutput(l.Output(0))
			x, _ := tensor.FromInt64s(dt, []int64{5}, xs)
			got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
			if got.DType() != dt || !equalInts(got.Int64Values(), w) {
				t.Errorf("%v/%v: got %v %v, want %v", op, dt, got.DType(), got.Int64Values(), w)
			}
		}
	}
}

func TestUnaryEmpty(t *testing.T) {
	net := dsl.NewNetwork()
	in := net.AddInput("x", dsl.Float16, dsl.Dims{-1, 3})
	l := net.AddUnary(in, dsl.UnaryExp)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float16, 0, 3)})[l.Output(0).Name()]
	if !sameShape(got.Shape(), []int64{0, 3}) {
		t.Fatalf("shape %v", got.Shape())
	}
}
