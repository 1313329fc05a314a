package cpu

import (
	"errors"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestConcatenationAxes(t *testing.T) {
	// a [2,1,3] and b [2,2,3] along axis 1 (also given as -2); c [2,3,3]
	// and a again along 1 with a dynamic first dim.
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.BFloat16, tensor.Int32, tensor.Int4} {
		for _, axis := range []int{1, -2} {
			t.Run(dt.String(), func(t *testing.T) {
				rng := newRNG(4)
				a, av := randTensor(t, rng, dt, 2, 1, 3)
				b, bv := randTensor(t, rng, dt, 2, 2, 3)
				net := dsl.NewNetwork()
				ia := net.AddInput("a", dt, dsl.Dims{-1, 1, 3})
				ib := net.AddInput("b", dt, dsl.Dims{2, -1, 3})
				l := net.AddConcatenation([]*dsl.Tensor{ia, ib, ia})
				l.SetAxis(axis)
				net.MarkOutput(l.Output(0))
				got := runNet(t, net, map[string]*tensor.Tensor{"a": a, "b": b})[l.Output(0).Name()]
				var want []float64
				for i := 0; i < 2; i++ {
					want = append(want, av[i*3:i*3+3]...)
					want = append(want, bv[i*6:i*6+6]...)
					want = append(want, av[i*3:i*3+3]...)
				}
				checkClose(t, got, []int64{2, 4, 3}, want, 1)
			})
		}
	}
}

func TestConcatenationEmptyAndMismatch(t *testing.T) {
	net := dsl.NewNetwork()
	ia := net.AddInput("a", tensor.Float32, dsl.Dims{-1, 2})
	ib := net.AddInput("b", tensor.Float32, dsl.Dims{-1, 2})
	l := net.AddConcatenation([]*dsl.Tensor{ia, ib})
	l.SetAxis(0)
	net.MarkOutput(l.Output(0))
	a := tensor.New(tensor.Float32, 0, 2)
	b, bv := randTensor(t, newRNG(5), tensor.Float32, 3, 2)
	got := runNet(t, net, map[string]*tensor.Tensor{"a": a, "b": b})[l.Output(0).Name()]
	checkClose(t, got, []int64{3, 2}, bv, 1)

	// Concatenating on axis 1 with different first dims fails at run time.
	net2 := dsl.NewNetwork()
	ja := net2.AddInput("a", tensor.Float32, dsl.Dims{-1, 2})
	jb := net2.AddInput("b", tensor.Float32, dsl.Dims{-1, 2})
	l2 := net2.AddConcatenation([]*dsl.Tensor{ja, jb})
	l2.SetAxis(1)
	net2.MarkOutput(l2.Output(0))
	err := runErr(net2, map[string]*tensor.Tensor{"a": b, "b": tensor.New(tensor.Float32, 2, 2)})
	if !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("want ShapeMismatch, got %v", err)
	}
}
