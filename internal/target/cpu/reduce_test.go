package cpu

import (
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// reduceNaive3 reduces a [d0,d1,d2] array over the axes in mask with
// nested loops, returning values in the kept-dims layout.
func reduceNaive3(v []float64, d [3]int, mask uint32, f func([]float64) float64) []float64 {
	red := [3]bool{mask&1 != 0, mask&2 != 0, mask&4 != 0}
	var ext [3]int
	for a := range 3 {
		ext[a] = d[a]
		if red[a] {
			ext[a] = 1
		}
	}
	var out []float64
	for o0 := 0; o0 < ext[0]; o0++ {
		for o1 := 0; o1 < ext[1]; o1++ {
			for o2 := 0; o2 < ext[2]; o2++ {
				var group []float64
				for i := 0; i < d[0]; i++ {
					for j := 0; j < d[1]; j++ {
						for k := 0; k < d[2]; k++ {
							if (red[0] || i == o0) && (red[1] || j == o1) && (red[2] || k == o2) {
								group = append(group, v[(i*d[1]+j)*d[2]+k])
							}
						}
					}
				}
				out = append(out, f(group))
			}
		}
	}
	return out
}

var reduceNaiveOps = map[dsl.ReduceOperation]func([]float64) float64{
	dsl.ReduceSum: func(g []float64) float64 {
		s := 0.0
		for _, x := range g {
			s += x
		}
		return s
	},
	dsl.ReduceProd: func(g []float64) float64 {
		s := 1.0
		for _, x := range g {
			s *= x
		}
		return s
	},
	dsl.ReduceMax: func(g []float64) float64 {
		s := math.Inf(-1)
		for _, x := range g {
			s = math.Max(s, x)
		}
		return s
	},
	dsl.ReduceMin: func(g []float64) float64 {
		s := math.Inf(1)
		for _, x := range g {
			s = math.Min(s, x)
		}
		return s
	},
	dsl.ReduceAvg: func(g []float64) float64 {
		s := 0.0
		for _, x := range g {
			s += x
		}
		return s / float64(len(g))
	},
}

func TestReduceEveryMaskFloat(t *testing.T) {
	d := [3]int{2, 3, 4}
	rng := newRNG(20)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		x, xv := randTensor(t, rng, dt, 2, 3, 4)
		for op, f := range reduceNaiveOps {
			for mask := uint32(0); mask < 8; mask++ {
				for _, keep := range []bool{true, false} {
					net := dsl.NewNetwork()
					l := net.AddReduce(net.AddInput("x", dt, dsl.Dims{-1, 3, 4}), op, mask, keep)
					net.MarkOutput(l.Output(0))
					got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
					want := reduceNaive3(xv, d, mask, f)
					var shape []int64
					for a := range 3 {
						switch {
						case mask&(1<<a) == 0:
							shape = append(shape, int64(d[a]))
						case keep:
							shape = append(shape, 1)
						}
					}
					t.Run(dt.String()+"/"+op.String(), func(t *testing.T) {
						checkClose(t, got, shape, roundTo(dt, want), 24)
					})
				}
			}
		}
	}
}

func TestReduceIntegers(t *testing.T) {
	vals := []float64{3, -7, 2, 5, 0, -1} // [2,3]
	cases := []struct {
		op   dsl.ReduceOperation
		want []float64 // over axis 1
	}{
		{dsl.ReduceSum, []float64{-2, 4}},
		{dsl.ReduceProd, []float64{-42, 0}},
		{dsl.ReduceMax, []float64{3, 5}},
		{dsl.ReduceMin, []float64{-7, -1}},
		{dsl.ReduceAvg, []float64{0, 1}}, // -2/3 truncates to 0, 4/3 to 1
	}
	for _, dt := range []tensor.DataType{tensor.Int32, tensor.Int64} {
		for _, c := range cases {
			net := dsl.NewNetwork()
			l := net.AddReduce(net.AddInput("x", dt, dsl.Dims{2, 3}), c.op, 0b10, false)
			net.MarkOutput(l.Output(0))
			got := runNet(t, net, map[string]*tensor.Tensor{"x": mustTensor(t, dt, []int64{2, 3}, vals)})[l.Output(0).Name()]
			t.Run(dt.String()+"/"+c.op.String(), func(t *testing.T) { checkClose(t, got, []int64{2}, c.want, 1) })
		}
	}
}

func TestReduceEmpty(t *testing.T) {
	// Reducing over a zero-length axis gives TensorRT's identity values.
	floatWant := map[dsl.ReduceOperation]float64{dsl.ReduceSum: 0, dsl.ReduceProd: 1,
		dsl.ReduceMax: math.Inf(-1), dsl.ReduceMin: math.Inf(1), dsl.ReduceAvg: math.NaN()}
	intWant := map[dsl.ReduceOperation]float64{dsl.ReduceSum: 0, dsl.ReduceProd: 1,
		dsl.ReduceMax: math.MinInt32, dsl.ReduceMin: math.MaxInt32, dsl.ReduceAvg: 0}
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.Int32} {
		for _, op := range dsl.AllReduceOperations() {
			net := dsl.NewNetwork()
			l := net.AddReduce(net.AddInput("x", dt, dsl.Dims{2, 0}), op, 0b10, true)
			net.MarkOutput(l.Output(0))
			got := runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(dt, 2, 0)})[l.Output(0).Name()]
			w := floatWant[op]
			if dt == tensor.Int32 {
				w = intWant[op]
			}
			t.Run(dt.String()+"/"+op.String(), func(t *testing.T) { checkClose(t, got, []int64{2, 1}, []float64{w, w}, 1) })
		}
	}
	// Reducing the non-empty axis of an empty tensor gives an empty tensor.
	net := dsl.NewNetwork()
	l := net.AddReduce(net.AddInput("x", tensor.Float32, dsl.Dims{0, 3}), dsl.ReduceSum, 0b10, false)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 0, 3)})[l.Output(0).Name()]
	checkClose(t, got, []int64{0}, nil, 1)
}

func TestReduceMaxPropagatesNaN(t *testing.T) {
	net := dsl.NewNetwork()
	l := net.AddReduce(net.AddInput("x", tensor.Float32, dsl.Dims{3}), dsl.ReduceMax, 1, false)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"x": mustTensor(t, tensor.Float32, []int64{3}, []float64{1, math.NaN(), 2})})[l.Output(0).Name()]
	checkClose(t, got, []int64{}, []float64{math.NaN()}, 1)
}
