package cpu

import (
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// softmaxNaive3 applies the softmax formula along axis of a [d0,d1,d2] array.
func softmaxNaive3(v []float64, d [3]int, axis int) []float64 {
	out := make([]float64, len(v))
	at := func(i [3]int) int { return (i[0]*d[1]+i[1])*d[2] + i[2] }
	for i := 0; i < d[0]; i++ {
		for j := 0; j < d[1]; j++ {
			for k := 0; k < d[2]; k++ {
				idx := [3]int{i, j, k}
				sum := 0.0
				for m := 0; m < d[axis]; m++ {
					o := idx
					o[axis] = m
					sum += math.Exp(v[at(o)])
				}
				out[at(idx)] = math.Exp(v[at(idx)]) / sum
			}
		}
	}
	return out
}

func TestSoftMaxEachAxis(t *testing.T) {
	d := [3]int{2, 3, 5}
	rng := newRNG(30)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		x, xv := randTensor(t, rng, dt, 2, 3, 5)
		for axis := 0; axis < 3; axis++ {
			net := dsl.NewNetwork()
			l := net.AddSoftMax(net.AddInput("x", dt, dsl.Dims{2, -1, 5}))
			l.SetAxes(1 << axis)
			net.MarkOutput(l.Output(0))
			got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
			t.Run(dt.String(), func(t *testing.T) {
				checkClose(t, got, []int64{2, 3, 5}, roundTo(dt, softmaxNaive3(xv, d, axis)), 1)
			})
		}
	}
}

func TestSoftMaxLargeValuesStable(t *testing.T) {
	// exp(1000) overflows; subtracting the max keeps the result exact.
	net := dsl.NewNetwork()
	l := net.AddSoftMax(net.AddInput("x", tensor.Float32, dsl.Dims{3}))
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"x": mustTensor(t, tensor.Float32, []int64{3}, []float64{1000, 1001, 1000})})[l.Output(0).Name()]
	e := math.Exp(-1)
	checkClose(t, got, []int64{3}, []float64{e / (1 + 2*e), 1 / (1 + 2*e), e / (1 + 2*e)}, 1)
}

func TestSoftMaxEmpty(t *testing.T) {
	net := dsl.NewNetwork()
	l := net.AddSoftMax(net.AddInput("x", tensor.Float32, dsl.Dims{0, 4}))
	l.SetAxes(2)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 0, 4)})[l.Output(0).Name()]
	checkClose(t, got, []int64{0, 4}, nil, 1)
}
