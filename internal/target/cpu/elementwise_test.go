package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestElementWiseFloatBroadcast(t *testing.T) {
	ops := map[dsl.ElementWiseOperation]func(a, b float64) float64{
		dsl.ElementWiseSum:      func(a, b float64) float64 { return a + b },
		dsl.ElementWiseProd:     func(a, b float64) float64 { return a * b },
		dsl.ElementWiseMax:      math.Max,
		dsl.ElementWiseMin:      math.Min,
		dsl.ElementWiseSub:      func(a, b float64) float64 { return a - b },
		dsl.ElementWiseDiv:      func(a, b float64) float64 { return a / b },
		dsl.ElementWisePow:      func(a, b float64) float64 { return math.Pow(math.Abs(a), b) },
		dsl.ElementWiseFloorDiv: func(a, b float64) float64 { return math.Floor(a / b) },
	}
	rng := newRNG(2)
	// a is [2,1,4], b is [1,3,4]: both sides broadcast.
	for op, f := range ops {
		for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
			t.Run(op.String()+"/"+dt.String(), func(t *testing.T) {
				a, av := randTensor(t, rng, dt, 2, 1, 4)
				if op == dsl.ElementWisePow { // keep the base positive
					for i := range av {
						av[i] = math.Abs(av[i])
					}
					a = mustTensor(t, dt, []int64{2, 1, 4}, av)
				}
				b, bv := randTensor(t, rng, dt, 1, 3, 4)
				net := dsl.NewNetwork()
				ia := net.AddInput("a", dt, dsl.Dims{2, 1, 4})
				ib := net.AddInput("b", dt, dsl.Dims{-1, 3, 4})
				l := net.AddElementWise(ia, ib, op)
				net.MarkOutput(l.Output(0))
				if d := l.Output(0).Dims(); !d.Equal(dsl.Dims{2, 3, 4}) {
					t.Fatalf("inferred dims %v", d)
				}
				got := runNet(t, net, map[string]*tensor.Tensor{"a": a, "b": b})[l.Output(0).Name()]
				var want []float64
				for i := 0; i < 2; i++ {
					for j := 0; j < 3; j++ {
						for k := 0; k < 4; k++ {
							want = append(want, f(av[i*4+k], bv[j*4+k]))
						}
					}
				}
				checkClose(t, got, []int64{2, 3, 4}, roundTo(dt, want), 1)
			})
		}
	}
}

func TestElementWiseIntegerAndCompare(t *testing.T) {
	a := []int64{7, -7, 7, -7, 0, 3}
	b := []int64{2, 2, -2, -2, 5, 3}
	cases := []struct {
		op   dsl.ElementWiseOperation
		want []int64
	}{
		{dsl.ElementWiseDiv, []int64{3, -3, -3, 3, 0, 1}},      // truncation
		{dsl.ElementWiseFloorDiv, []int64{3, -4, -4, 3, 0, 1}}, // floor
		{dsl.ElementWisePow, []int64{49, 49, 0, 0, 0, 27}},
		{dsl.ElementWiseEqual, []int64{0, 0, 0, 0, 0, 1}},
		{dsl.ElementWiseGreater, []int64{1, 0, 1, 0, 0, 0}},
		{dsl.ElementWiseLess, []int64{0, 1, 0, 1, 1, 0}},
	}
	for _, dt := range []tensor.DataType{tensor.Int32, tensor.Int64} {
		for _, c := range cases {
			t.Run(dt.String()+"/"+c.op.String(), func(t *testing.T) {
				net := dsl.NewNetwork()
				ia := net.AddInput("a", dt, dsl.Dims{6})
				ib := net.AddInput("b", dt, dsl.Dims{6})
				l := net.AddElementWise(ia, ib, c.op)
				net.MarkOutput(l.Output(0))
				ta, _ := tensor.FromInt64s(dt, []int64{6}, a)
				tb, _ := tensor.FromInt64s(dt, []int64{6}, b)
				got := runNet(t, net, map[string]*tensor.Tensor{"a": ta, "b": tb})[l.Output(0).Name()]
				if g := got.Int64Values(); !equalInts(g, c.want) {
					t.Fatalf("got %v want %v", g, c.want)
				}
			})
		}
	}
}

func TestElementWiseInt32Wraps(t *testing.T) {
	net := dsl.NewNetwork()
	ia := net.AddInput("a", dsl.Int32, dsl.Dims{1})
	l := net.AddElementWise(ia, ia, dsl.ElementWiseSum)
	net.MarkOutput(l.Output(0))
	x, _ := tensor.FromInt32([]int64{1}, []int32{math.MaxInt32})
	got := runNet(t, net, map[string]*tensor.Tensor{"a": x})[l.Output(0).Name()]
	if g := got.Int32s()[0]; g != -2 {
		t.Fatalf("MaxInt32+MaxInt32 = %d, want -2 (wraparound)", g)
	}
}

func TestElementWiseLogical(t *testing.T) {
	a := []bool{true, true, false, false}
	b := []bool{true, false, true, false}
	want := map[dsl.ElementWiseOperation][]int64{
		dsl.ElementWiseAnd: {1, 0, 0, 0}, dsl.ElementWiseOr: {1, 1, 1, 0}, dsl.ElementWiseXor: {0, 1, 1, 0},
		dsl.ElementWiseEqual: {1, 0, 0, 1},
	}
	for op, w := range want {
		net := dsl.NewNetwork()
		ia := net.AddInput("a", dsl.Bool, dsl.Dims{4})
		ib := net.AddInput("b", dsl.Bool, dsl.Dims{4})
		l := net.AddElementWise(ia, ib, op)
		net.MarkOutput(l.Output(0))
		ta, _ := tensor.FromBool([]int64{4}, a)
		tb, _ := tensor.FromBool([]int64{4}, b)
		got := runNet(t, net, map[string]*tensor.Tensor{"a": ta, "b": tb})[l.Output(0).Name()]
		if g := got.Int64Values(); !equalInts(g, w) {
			t.Errorf("%v: got %v want %v", op, g, w)
		}
	}
}

func TestElementWiseEmptyAndRuntimeMismatch(t *testing.T) {
	net := dsl.NewNetwork()
	ia := net.AddInput("a", dsl.Float32, dsl.Dims{-1, 3})
	ib := net.AddInput("b", dsl.Float32, dsl.Dims{-1, 3})
	l := net.AddElementWise(ia, ib, dsl.ElementWiseSum)
	net.MarkOutput(l.Output(0))
	empty := tensor.New(tensor.Float32, 0, 3)
	got := runNet(t, net, map[string]*tensor.Tensor{"a": empty, "b": empty})[l.Output(0).Name()]
	if !sameShape(got.Shape(), []int64{0, 3}) {
		t.Fatalf("empty: shape %v", got.Shape())
	}
	err := runErr(net, map[string]*tensor.Tensor{"a": tensor.New(tensor.Float32, 2, 3), "b": tensor.New(tensor.Float32, 4, 3)})
	if !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("2x3 + 4x3: got %v, want ShapeMismatch", err)
	}
}

func TestElementWiseIntDivByZero(t *testing.T) {
	net := dsl.NewNetwork()
	ia := net.AddInput("a", dsl.Int64, dsl.Dims{2})
	ib := net.AddInput("b", dsl.Int64, dsl.Dims{2})
	net.MarkOutput(net.AddElementWise(ia, ib, dsl.ElementWiseDiv).Output(0))
	ta, _ := tensor.FromInt64([]int64{2}, []int64{1, 2})
	tb, _ := tensor.FromInt64([]int64{2}, []int64{1, 0})
	if err := runErr(net, map[string]*tensor.Tensor{"a": ta, "b": tb}); !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("got %v, want OutOfRange", err)
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
