package cpu

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// cumWant is the naive definition: y[.., j, ..] sums x over the index
// range of TensorRT's table, along axis 1 of a [A, n, B] tensor.
func cumWant(xs []float64, a, n, b int, exclusive, reverse bool) []float64 {
	out := make([]float64, len(xs))
	for i := 0; i < a; i++ {
		for j := 0; j < n; j++ {
			for k := 0; k < b; k++ {
				lo, hi := 0, j // forward inclusive
				switch {
				case !reverse && exclusive:
					lo, hi = 0, j-1
				case reverse && !exclusive:
					lo, hi = j, n-1
				case reverse && exclusive:
					lo, hi = j+1, n-1
				}
				s := 0.0
				for m := lo; m <= hi; m++ {
					s += xs[i*n*b+m*b+k]
				}
				out[i*n*b+j*b+k] = s
			}
		}
	}
	return out
}

func TestCumulativeSum(t *testing.T) {
	rng := newRNG(8)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16, tensor.Int32, tensor.Int64} {
		for _, axis := range []int64{1, -2} {
			for _, excl := range []bool{false, true} {
				for _, rev := range []bool{false, true} {
					x, xs := randTensor(t, rng, dt, 2, 5, 3)
					net := dsl.NewNetwork()
					in := net.AddInput("x", dt, dsl.Dims{-1, 5, 3})
					ax := net.AddConstant(dsl.Dims{}, dsl.Int32Weights(int32(axis))).Output(0)
					l := net.AddCumulative(in, ax, dsl.CumulativeSum, excl, rev)
					net.MarkOutput(l.Output(0))
					got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
					checkClose(t, got, []int64{2, 5, 3}, roundTo(dt, cumWant(xs, 2, 5, 3, excl, rev)), 5)
				}
			}
		}
	}
}

func TestCumulativeAxis0Int64AxisAndEmpty(t *testing.T) {
	net := dsl.NewNetwork()
	in := net.AddInput("x", dsl.Int32, dsl.Dims{-1})
	ax := net.AddConstant(dsl.Dims{}, dsl.Int64Weights(0)).Output(0)
	l := net.AddCumulative(in, ax, dsl.CumulativeSum, false, false)
	net.MarkOutput(l.Output(0))
	x, _ := tensor.FromInt32([]int64{3}, []int32{math.MaxInt32, 1, 5})
	got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
	if !equalInts(got.Int64Values(), []int64{math.MaxInt32, math.MinInt32, math.MinInt32 + 5}) {
		t.Fatalf("int32 running sum should wrap: %v", got.Int64Values())
	}
	got = runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Int32, 0)})[l.Output(0).Name()]
	if !sameShape(got.Shape(), []int64{0}) {
		t.Fatalf("empty: %v", got.Shape())
	}
}

func TestAssertion(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1})
	lim := net.AddConstant(dsl.Dims{1}, dsl.Int64Weights(4)).Output(0)
	size := net.AddShape(x).Output(0)
	ok := net.AddElementWise(size, lim, dsl.ElementWiseLess).Output(0)
	a := net.AddAssertion(ok, "x must have fewer than 4 elements")
	net.MarkOutput(net.AddIdentity(x).Output(0))
	if a.NbOutputs() != 0 {
		t.Fatalf("assertion has %d outputs", a.NbOutputs())
	}
	runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 3)})
	err := runErr(net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 5)})
	if !errors.Is(err, diag.AssertionFailed) || !strings.Contains(err.Error(), "x must have fewer than 4 elements") {
		t.Fatalf("got %v, want AssertionFailed with the message", err)
	}
	// An empty condition has no false element.
	net2 := dsl.NewNetwork()
	c := net2.AddInput("c", dsl.Bool, dsl.Dims{-1})
	net2.AddAssertion(c, "never")
	net2.MarkOutput(net2.AddIdentity(c).Output(0))
	runNet(t, net2, map[string]*tensor.Tensor{"c": tensor.New(tensor.Bool, 0)})
}
