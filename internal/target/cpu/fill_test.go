package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestFillLinspaceHeaderExample(t *testing.T) {
	// TensorRT's example: dims [3,4], alpha 1, beta [100,10].
	for _, dt := range []tensor.DataType{tensor.Int32, tensor.Int64, tensor.Float32} {
		net := dsl.NewNetwork()
		dims := net.AddConstant(dsl.Dims{2}, dsl.Int64Weights(3, 4)).Output(0)
		alpha := net.AddConstant(dsl.Dims{}, dsl.Int32Weights(1)).Output(0)
		beta := net.AddConstant(dsl.Dims{2}, dsl.Int32Weights(100, 10)).Output(0)
		l := net.AddFill(dsl.Dims{1}, dsl.FillLinspace, dt)
		l.SetInput(0, dims)
		l.SetInput(1, alpha)
		l.SetInput(2, beta)
		net.MarkOutput(l.Output(0))
		got := runNet(t, net, nil)[l.Output(0).Name()]
		var want []float64
		for i := 0; i < 3; i++ {
			for j := 0; j < 4; j++ {
				want = append(want, float64(1+100*i+10*j))
			}
		}
		if got.DType() != dt {
			t.Fatalf("type %v", got.DType())
		}
		checkClose(t, got, []int64{3, 4}, want, 1)
	}
}

func TestFillLinspaceStatic(t *testing.T) {
	net := dsl.NewNetwork()
	f := net.AddFill(dsl.Dims{5}, dsl.FillLinspace, dsl.Float32)
	f.SetAlpha(-1)
	f.SetBeta(0.5)
	i := net.AddFill(dsl.Dims{3}, dsl.FillLinspace, dsl.Int64)
	i.SetAlphaInt64(1 << 60)
	i.SetBetaInt64(3)
	net.MarkOutput(f.Output(0))
	net.MarkOutput(i.Output(0))
	out := runNet(t, net, nil)
	checkClose(t, out[f.Output(0).Name()], []int64{5}, []float64{-1, -0.5, 0, 0.5, 1}, 1)
	if g := out[i.Output(0).Name()].Int64Values(); !equalInts(g, []int64{1 << 60, 1<<60 + 3, 1<<60 + 6}) {
		t.Fatalf("int64 linspace: %v", g)
	}
}

func TestFillDynamicDimsAndEmpty(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float16, dsl.Dims{-1, 2})
	shape := net.AddShape(x).Output(0)
	alpha := net.AddConstant(dsl.Dims{}, dsl.Float32Weights(0.5)).Output(0)
	beta := net.AddConstant(dsl.Dims{2}, dsl.Float32Weights(2, 0.25)).Output(0)
	l := net.AddFill(dsl.Dims{1}, dsl.FillLinspace, dsl.Float32)
	l.SetInput(0, shape)
	l.SetInput(1, alpha)
	l.SetInput(2, beta)
	net.MarkOutput(l.Output(0))
	if d := l.Output(0).Dims(); !d.Equal(dsl.Dims{-1, -1}) {
		t.Fatalf("inferred dims %v", d)
	}
	got := runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float16, 3, 2)})[l.Output(0).Name()]
	checkClose(t, got, []int64{3, 2}, []float64{0.5, 0.75, 2.5, 2.75, 4.5, 4.75}, 1)
	got = runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float16, 0, 2)})[l.Output(0).Name()]
	if !sameShape(got.Shape(), []int64{0, 2}) {
		t.Fatalf("empty: %v", got.Shape())
	}
}

func TestFillRuntimeErrors(t *testing.T) {
	net := dsl.NewNetwork()
	d := net.AddInput("d", dsl.Int64, dsl.Dims{2})
	l := net.AddFill(dsl.Dims{1}, dsl.FillRandomUniform, dsl.Float32)
	l.SetInput(0, d)
	net.MarkOutput(l.Output(0))
	neg, _ := tensor.FromInt64([]int64{2}, []int64{2, -3})
	if err := runErr(net, map[string]*tensor.Tensor{"d": neg}); !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("negative dims: got %v, want OutOfRange", err)
	}
	huge, _ := tensor.FromInt64([]int64{2}, []int64{1 << 30, 1 << 30})
	if err := runErr(net, map[string]*tensor.Tensor{"d": huge}); !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("huge dims: got %v, want OutOfRange", err)
	}
	big := dsl.NewNetwork()
	bl := big.AddFill(dsl.Dims{1 << 21, 1 << 20}, dsl.FillRandomNormal, dsl.Float32)
	big.MarkOutput(bl.Output(0))
	if err := runErr(big, nil); !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("2^41 static elements: got %v, want OutOfRange", err)
	}
	// A delta whose length is known only at run time.
	net2 := dsl.NewNetwork()
	beta := net2.AddInput("b", dsl.Float32, dsl.Dims{-1})
	zero := net2.AddConstant(dsl.Dims{}, dsl.Float32Weights(0)).Output(0)
	f := net2.AddFill(dsl.Dims{4}, dsl.FillLinspace, dsl.Float32)
	f.SetInput(1, zero)
	f.SetInput(2, beta)
	net2.MarkOutput(f.Output(0))
	if err := runErr(net2, map[string]*tensor.Tensor{"b": tensor.New(tensor.Float32, 2)}); !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("delta length: got %v, want ShapeMismatch", err)
	}
}

// fillStats returns the mean, variance, minimum and maximum of values.
func fillStats(v []float64) (mean, variance, lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		mean += x
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(v)), lo, hi
}

func TestFillRandomStatistics(t *testing.T) {
	const n = 100000
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16} {
		for _, dynamic := range []bool{false, true} {
			net := dsl.NewNetwork()
			scalar := func(v float32) *dsl.Tensor { return net.AddConstant(dsl.Dims{}, dsl.Float32Weights(v)).Output(0) }
			var params []*dsl.Tensor
			if dynamic {
				params = []*dsl.Tensor{scalar(-2), scalar(3), scalar(1.5), scalar(0.5)}
			}
			u := net.AddFill(dsl.Dims{n}, dsl.FillRandomUniform, dt)
			g := net.AddFill(dsl.Dims{100, n / 100}, dsl.FillRandomNormal, dt)
			if dynamic {
				u.SetInput(1, params[0])
				u.SetInput(2, params[1])
				g.SetInput(1, params[2])
				g.SetInput(2, params[3])
			} else {
				u.SetAlpha(-2)
				u.SetBeta(3)
				g.SetAlpha(1.5)
				g.SetBeta(0.5)
			}
			net.MarkOutput(u.Output(0))
			net.MarkOutput(g.Output(0))
			out := runNet(t, net, nil)
			uv, gv := out[u.Output(0).Name()], out[g.Output(0).Name()]
			if uv.DType() != dt || !sameShape(gv.Shape(), []int64{100, n / 100}) {
				t.Fatalf("%v: got %v and %v", dt, uv, gv)
			}
			// Uniform on [-2, 3]: mean 0.5, variance 25/12; the mean's
			// standard error is about 0.0046, so 0.03 is > 6 sigma.
			m, v, lo, hi := fillStats(uv.Float64s())
			if math.Abs(m-0.5) > 0.03 || math.Abs(v-25.0/12) > 0.05 || lo < -2 || hi > 3 || lo > -1.99 || hi < 2.99 {
				t.Errorf("%v uniform: mean %g var %g range [%g, %g]", dt, m, v, lo, hi)
			}
			// Normal(1.5, 0.5): the mean's standard error is 0.0016.
			m, v, _, _ = fillStats(gv.Float64s())
			if math.Abs(m-1.5) > 0.01 || math.Abs(v-0.25) > 0.01 {
				t.Errorf("%v normal: mean %g var %g", dt, m, v)
			}
			// Deterministic: a second run gives the same values.
			again := runNet(t, net, nil)[u.Output(0).Name()]
			if string(again.Bytes()) != string(uv.Bytes()) {
				t.Errorf("%v: two runs of the same engine differ", dt)
			}
		}
	}
}
