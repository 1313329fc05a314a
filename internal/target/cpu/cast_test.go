package cpu

import (
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

var castTypes = []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16, tensor.Int8,
	tensor.UInt8, tensor.Int32, tensor.Int64, tensor.Bool}

// castWantInt is the naive float-or-int to integer rule: NaN is 0, the
// value is truncated toward zero and saturated to [lo, hi].
func castWantInt(v float64, lo, hi int64) int64 {
	switch {
	case math.IsNaN(v):
		return 0
	case v >= float64(hi):
		return hi
	case v <= float64(lo):
		return lo
	}
	return int64(math.Trunc(v))
}

func castRange(dt tensor.DataType) (int64, int64) {
	switch dt {
	case tensor.Int8:
		return -128, 127
	case tensor.UInt8:
		return 0, 255
	case tensor.Int32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func TestCastEveryPair(t *testing.T) {
	floatSrc := []float64{0, 1.5, -2.7, 300.25, -1000, 7, 1e10, -1e10, math.NaN()}
	intSrc := []int64{0, 1, -2, 300, -1000, 7, 1 << 40, -(1 << 40), 127}
	for _, from := range castTypes {
		for _, to := range castTypes {
			t.Run(from.String()+"->"+to.String(), func(t *testing.T) {
				var x *tensor.Tensor
				switch {
				case from.IsFloat():
					x = mustTensor(t, from, []int64{3, 3}, floatSrc)
				case from == tensor.Bool:
					x, _ = tensor.FromBool([]int64{3, 3}, []bool{true, false, true, true, false, false, true, false, true})
				default:
					x, _ = tensor.FromInt64s(from, []int64{3, 3}, intSrc)
				}
				xs := x.Float64s()
				xi := x.Int64Values()
				net := dsl.NewNetwork()
				in := net.AddInput("x", from, dsl.Dims{-1, 3})
				l := net.AddCast(in, to)
				net.MarkOutput(l.Output(0))
				got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
				if got.DType() != to {
					t.Fatalf("type %v", got.DType())
				}
				switch {
				case to.IsFloat():
					checkClose(t, got, []int64{3, 3}, roundTo(to, xs), 1)
				case to == tensor.Bool:
					want := make([]int64, len(xs))
					for i, v := range xs {
						if v != 0 {
							want[i] = 1
						}
					}
					if g := got.Int64Values(); !equalInts(g, want) {
						t.Fatalf("got %v want %v", g, want)
					}
				default:
					lo, hi := castRange(to)
					want := make([]int64, len(xs))
					for i, v := range xs {
						if from.IsFloat() {
							want[i] = castWantInt(v, lo, hi)
						} else {
							want[i] = max(min(xi[i], hi), lo)
						}
					}
					if g := got.Int64Values(); !equalInts(g, want) {
						t.Fatalf("got %v want %v (from %v)", g, want, xs)
					}
				}
			})
		}
	}
}

func TestCastEmpty(t *testing.T) {
	net := dsl.NewNetwork()
	in := net.AddInput("x", dsl.Float32, dsl.Dims{0, 2})
	l := net.AddCast(in, dsl.Int64)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 0, 2)})[l.Output(0).Name()]
	if got.DType() != tensor.Int64 || !sameShape(got.Shape(), []int64{0, 2}) {
		t.Fatalf("got %v", got)
	}
}

func TestIdentityCopies(t *testing.T) {
	rng := newRNG(3)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.BFloat16, tensor.Int32, tensor.Bool} {
		x, xs := randTensor(t, rng, dt, 2, 5)
		net := dsl.NewNetwork()
		in := net.AddInput("x", dt, dsl.Dims{2, -1})
		l := net.AddIdentity(in)
		net.MarkOutput(l.Output(0))
		got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
		checkClose(t, got, []int64{2, 5}, xs, 1)
		if got.DType() != dt {
			t.Fatalf("type %v", got.DType())
		}
		if len(x.Bytes()) > 0 && &got.Bytes()[0] == &x.Bytes()[0] {
			t.Fatal("identity output aliases the caller's input")
		}
	}
}
