package cpu

import (
	"errors"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestSelectBroadcast(t *testing.T) {
	rng := newRNG(5)
	// cond [2,1,4], then [1,3,4], else [2,3,1]: every input broadcasts.
	condVals := []bool{true, false, false, true, false, true, true, false}
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16, tensor.Int32, tensor.Int64, tensor.Int8, tensor.Bool} {
		t.Run(dt.String(), func(t *testing.T) {
			cond, _ := tensor.FromBool([]int64{2, 1, 4}, condVals)
			a, av := randTensor(t, rng, dt, 1, 3, 4)
			b, bv := randTensor(t, rng, dt, 2, 3, 1)
			net := dsl.NewNetwork()
			ic := net.AddInput("c", dsl.Bool, dsl.Dims{2, 1, 4})
			ia := net.AddInput("a", dt, dsl.Dims{1, -1, 4})
			ib := net.AddInput("b", dt, dsl.Dims{2, 3, 1})
			l := net.AddSelect(ic, ia, ib)
			net.MarkOutput(l.Output(0))
			if d := l.Output(0).Dims(); !d.Equal(dsl.Dims{2, 3, 4}) {
				t.Fatalf("dims %v", d)
			}
			got := runNet(t, net, map[string]*tensor.Tensor{"c": cond, "a": a, "b": b})[l.Output(0).Name()]
			var want []float64
			for i := 0; i < 2; i++ {
				for j := 0; j < 3; j++ {
					for k := 0; k < 4; k++ {
						if condVals[i*4+k] {
							want = append(want, av[j*4+k])
						} else {
							want = append(want, bv[i*3+j])
						}
					}
				}
			}
			checkClose(t, got, []int64{2, 3, 4}, want, 1)
		})
	}
}

func TestSelectEmptyAndRuntimeMismatch(t *testing.T) {
	// TensorRT's example: a 0 against a 1 gives 0.
	net := dsl.NewNetwork()
	ic := net.AddInput("c", dsl.Bool, dsl.Dims{1, 1, -1, 9})
	ia := net.AddInput("a", dsl.Float32, dsl.Dims{1, 1, -1, 9})
	ib := net.AddInput("b", dsl.Float32, dsl.Dims{1, 3, 1, 9})
	l := net.AddSelect(ic, ia, ib)
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{
		"c": tensor.New(tensor.Bool, 1, 1, 0, 9), "a": tensor.New(tensor.Float32, 1, 1, 0, 9), "b": tensor.New(tensor.Float32, 1, 3, 1, 9),
	})[l.Output(0).Name()]
	if !sameShape(got.Shape(), []int64{1, 3, 0, 9}) {
		t.Fatalf("shape %v, want 1x3x0x9", got.Shape())
	}
	err := runErr(net, map[string]*tensor.Tensor{
		"c": tensor.New(tensor.Bool, 1, 1, 2, 9), "a": tensor.New(tensor.Float32, 1, 1, 4, 9), "b": tensor.New(tensor.Float32, 1, 3, 1, 9),
	})
	if !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("got %v, want ShapeMismatch", err)
	}
}

func TestParametricReLU(t *testing.T) {
	rng := newRNG(6)
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		t.Run(dt.String(), func(t *testing.T) {
			x, xs := randTensor(t, rng, dt, 2, 3, 4)
			s, ss := randTensor(t, rng, dt, 1, 3, 1) // per-channel slope
			net := dsl.NewNetwork()
			ix := net.AddInput("x", dt, dsl.Dims{-1, 3, 4})
			is := net.AddInput("s", dt, dsl.Dims{1, 3, 1})
			l := net.AddParametricReLU(ix, is)
			net.MarkOutput(l.Output(0))
			got := runNet(t, net, map[string]*tensor.Tensor{"x": x, "s": s})[l.Output(0).Name()]
			want := make([]float64, 24)
			for i := 0; i < 2; i++ {
				for j := 0; j < 3; j++ {
					for k := 0; k < 4; k++ {
						v := xs[i*12+j*4+k]
						if v < 0 {
							v *= ss[j]
						}
						want[i*12+j*4+k] = v
					}
				}
			}
			checkClose(t, got, []int64{2, 3, 4}, roundTo(dt, want), 1)
		})
	}
}

func TestParametricReLURuntimeMismatchAndEmpty(t *testing.T) {
	net := dsl.NewNetwork()
	ix := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 2})
	is := net.AddInput("s", dsl.Float32, dsl.Dims{-1, 2})
	l := net.AddParametricReLU(ix, is)
	net.MarkOutput(l.Output(0))
	err := runErr(net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 3, 2), "s": tensor.New(tensor.Float32, 2, 2)})
	if !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("got %v, want ShapeMismatch", err)
	}
	got := runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 0, 2), "s": tensor.New(tensor.Float32, 1, 2)})[l.Output(0).Name()]
	if !sameShape(got.Shape(), []int64{0, 2}) {
		t.Fatalf("shape %v", got.Shape())
	}
}

// Select moves elements bit for bit, so storage types work too.
func TestSelectStorageTypes(t *testing.T) {
	for _, dt := range []tensor.DataType{tensor.Int4, tensor.FP8E4M3} {
		net := dsl.NewNetwork()
		ic := net.AddInput("c", dsl.Bool, dsl.Dims{5})
		ia := net.AddInput("a", dt, dsl.Dims{5})
		ib := net.AddInput("b", dt, dsl.Dims{1})
		l := net.AddSelect(ic, ia, ib)
		net.MarkOutput(l.Output(0))
		cond, _ := tensor.FromBool([]int64{5}, []bool{true, false, true, true, false})
		a := mustTensor(t, dt, []int64{5}, []float64{1, 2, -3, 4, 5})
		b := mustTensor(t, dt, []int64{1}, []float64{-1})
		got := runNet(t, net, map[string]*tensor.Tensor{"c": cond, "a": a, "b": b})[l.Output(0).Name()]
		checkClose(t, got, []int64{5}, []float64{1, -1, -3, 4, -1}, 1)
	}
}
