package cpu

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestConstantValues(t *testing.T) {
	h := mustTensor(t, tensor.Float16, []int64{6}, []float64{1, -2, 0.5, 3, 4, -0.25})
	i, _ := tensor.FromInt64([]int64{6}, []int64{1, 2, 3, 4, 5, 6})
	for _, w := range []*tensor.Tensor{h, i} {
		net := dsl.NewNetwork()
		x := net.AddInput("x", w.DType(), dsl.Dims{2, 3})
		c := net.AddConstant(dsl.Dims{2, 3}, dsl.NewWeights(w))
		s := net.AddElementWise(x, c.Output(0), dsl.ElementWiseSum)
		net.MarkOutput(c.Output(0))
		net.MarkOutput(s.Output(0))
		ones, _ := tensor.FromFloat64s(w.DType(), []int64{2, 3}, []float64{1, 1, 1, 1, 1, 1})
		out := runNet(t, net, map[string]*tensor.Tensor{"x": ones})
		wv := w.Float64s()
		checkClose(t, out[c.Output(0).Name()], []int64{2, 3}, wv, 1)
		plus := make([]float64, 6)
		for k, v := range wv {
			plus[k] = v + 1
		}
		checkClose(t, out[s.Output(0).Name()], []int64{2, 3}, plus, 1)
	}
}

func TestConstantScalarAndEmpty(t *testing.T) {
	net := dsl.NewNetwork()
	s := net.AddConstant(dsl.Dims{}, dsl.Float32Weights(2.5))
	e := net.AddConstant(dsl.Dims{3, 0}, dsl.Weights{})
	net.MarkOutput(s.Output(0))
	net.MarkOutput(e.Output(0))
	out := runNet(t, net, nil)
	checkClose(t, out[s.Output(0).Name()], []int64{}, []float64{2.5}, 1)
	if g := out[e.Output(0).Name()]; !sameShape(g.Shape(), []int64{3, 0}) || g.DType() != tensor.Float32 {
		t.Fatalf("empty constant: %v", g)
	}
}

func TestShapeLayer(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.BFloat16, dsl.Dims{-1, 3, -1})
	s := net.AddShape(x)
	sc := net.AddShape(net.AddInput("s", dsl.Bool, dsl.Dims{}))
	net.MarkOutput(s.Output(0))
	net.MarkOutput(sc.Output(0))
	out := runNet(t, net, map[string]*tensor.Tensor{
		"x": tensor.New(tensor.BFloat16, 4, 3, 0),
		"s": tensor.New(tensor.Bool),
	})
	if g := out[s.Output(0).Name()]; g.DType() != tensor.Int64 || !equalInts(g.Int64Values(), []int64{4, 3, 0}) {
		t.Fatalf("shape of 4x3x0: %v %v", g, g.Int64Values())
	}
	if g := out[sc.Output(0).Name()]; !sameShape(g.Shape(), []int64{0}) {
		t.Fatalf("shape of a scalar: %v", g)
	}
}
