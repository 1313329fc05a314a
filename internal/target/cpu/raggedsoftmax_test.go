package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func raggedNet(dt tensor.DataType) (*dsl.Network, *dsl.RaggedSoftMaxLayer) {
	net := dsl.NewNetwork()
	l := net.AddRaggedSoftMax(net.AddInput("x", dt, dsl.Dims{-1, 3, 5}), net.AddInput("b", tensor.Int32, dsl.Dims{-1, 3, 1}))
	net.MarkOutput(l.Output(0))
	return net, l
}

func TestRaggedSoftMax(t *testing.T) {
	const N, Z, S = 2, 3, 5
	lens := []float64{5, 3, 0, 1, 4, 2}
	rng := newRNG(60)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
		x, xv := randTensor(t, rng, dt, N, Z, S)
		net, l := raggedNet(dt)
		got := runNet(t, net, map[string]*tensor.Tensor{"x": x, "b": mustTensor(t, tensor.Int32, []int64{N, Z, 1}, lens)})[l.Output(0).Name()]
		want := make([]float64, N*Z*S)
		for r := 0; r < N*Z; r++ {
			sum := 0.0
			for j := 0; j < int(lens[r]); j++ {
				sum += math.Exp(xv[r*S+j])
			}
			for j := 0; j < int(lens[r]); j++ {
				want[r*S+j] = math.Exp(xv[r*S+j]) / sum
			}
		}
		t.Run(dt.String(), func(t *testing.T) { checkClose(t, got, []int64{N, Z, S}, roundTo(dt, want), 1) })
	}
}

func TestRaggedSoftMaxBoundsOutOfRange(t *testing.T) {
	x, _ := randTensor(t, newRNG(61), tensor.Float32, 1, 3, 5)
	for _, bad := range []float64{6, -1} {
		net, _ := raggedNet(tensor.Float32)
		err := runErr(net, map[string]*tensor.Tensor{"x": x, "b": mustTensor(t, tensor.Int32, []int64{1, 3, 1}, []float64{1, bad, 2})})
		if !errors.Is(err, diag.OutOfRange) {
			t.Fatalf("bound %g: want OutOfRange, got %v", bad, err)
		}
	}
}

func TestRaggedSoftMaxRuntimeShapeMismatch(t *testing.T) {
	x, _ := randTensor(t, newRNG(62), tensor.Float32, 1, 3, 5)
	net, _ := raggedNet(tensor.Float32)
	err := runErr(net, map[string]*tensor.Tensor{"x": x, "b": mustTensor(t, tensor.Int32, []int64{2, 3, 1}, []float64{1, 1, 1, 1, 1, 1})})
	if !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("want ShapeMismatch, got %v", err)
	}
}

func TestRaggedSoftMaxEmpty(t *testing.T) {
	net, l := raggedNet(tensor.Float32)
	got := runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 0, 3, 5), "b": tensor.New(tensor.Int32, 0, 3, 1)})[l.Output(0).Name()]
	checkClose(t, got, []int64{0, 3, 5}, nil, 1)
}
