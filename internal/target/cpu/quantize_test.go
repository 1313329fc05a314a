package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// quantRun builds x -> Quantize(scale) -> out and runs it.
func quantRun(t *testing.T, x, s *tensor.Tensor, dt tensor.DataType, setup func(*dsl.QuantizeLayer)) *tensor.Tensor {
	t.Helper()
	net := dsl.NewNetwork()
	xd := dsl.Dims(x.Shape()).Clone()
	xd[0] = -1 // the leading dim is resolved at run time
	q := net.AddQuantize(net.AddInput("x", x.DType(), xd), net.AddInput("s", s.DType(), s.Shape()), dt)
	if setup != nil {
		setup(q)
	}
	net.MarkOutput(q.Output(0))
	return runNet(t, net, map[string]*tensor.Tensor{"x": x, "s": s})[q.Output(0).Name()]
}

func TestQuantizePerTensorTiesAndSaturation(t *testing.T) {
	// scale 0.5: x/scale = 2x. Ties 2.5 -> 2, 3.5 -> 4, -2.5 -> -2, 0.5 -> 0.
	xs := []float64{1.25, 1.75, -1.25, 0.25, 0.75, 100, -100, 3, -4.5, 1.3}
	s := mustTensor(t, tensor.Float32, []int64{}, []float64{0.5})
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		x := mustTensor(t, dt, []int64{10}, xs)
		got := quantRun(t, x, s, tensor.Int8, nil)
		quantExact(t, got, []float64{2, 4, -2, 0, 2, 127, -128, 6, -9, 3})
		got = quantRun(t, x, s, tensor.Int4, nil)
		quantExact(t, got, []float64{2, 4, -2, 0, 2, 7, -8, 6, -8, 3})
	}
	// FP8: 2x on the e4m3 grid; 1000 saturates to 448; 2.6*2=5.2 -> 5 (spacing 0.5 in [4,8));
	// in [8,16) the spacing is 1: 2*4.25=8.5 ties to 8 (even mantissa), 2*4.75=9.5 ties to 10;
	// in [16,32) it is 2: 2*8.5=17 ties to 16.
	x := mustTensor(t, tensor.Float32, []int64{6}, []float64{1000, -1000, 2.6, 4.25, 4.75, 8.5})
	got := quantRun(t, x, s, tensor.FP8E4M3, nil)
	quantExact(t, got, []float64{448, -448, 5, 8, 10, 16})
}

func TestQuantizeZeroPoint(t *testing.T) {
	net := dsl.NewNetwork()
	q := net.AddQuantize(net.AddInput("x", tensor.Float32, dsl.Dims{3}), net.AddInput("s", tensor.Float32, dsl.Dims{}), tensor.Int8)
	q.SetInput(2, net.AddInput("z", tensor.Int8, dsl.Dims{}))
	net.MarkOutput(q.Output(0))
	out := runNet(t, net, map[string]*tensor.Tensor{
		"x": mustTensor(t, tensor.Float32, []int64{3}, []float64{2.5, 200, -3.5}),
		"s": mustTensor(t, tensor.Float32, []int64{}, []float64{1}),
		"z": mustTensor(t, tensor.Int8, []int64{}, []float64{3}),
	})[q.Output(0).Name()]
	// round(2.5)+3 = 5, 200+3 saturates to 127, round(-3.5)+3 = -4+3 = -1.
	checkClose(t, out, []int64{3}, []float64{5, 127, -1}, 1)
}

func TestQuantizePerChannelAndBlock(t *testing.T) {
	rng := newRNG(11)
	_, xs := randTensor(t, rng, tensor.Float32, 4, 3, 6)
	for i := range xs {
		xs[i] *= 10
	}
	x := mustTensor(t, tensor.Float32, []int64{4, 3, 6}, xs)
	xs = x.Float64s()
	round := func(v float64, lo, hi float64) float64 {
		f := float64(int64(v))
		if d := v - f; d > 0.5 || d < -0.5 || (d == 0.5 || d == -0.5) && int64(f)%2 != 0 {
			if v > 0 {
				f++
			} else {
				f--
			}
		}
		return min(hi, max(lo, f))
	}
	// Per-channel along axis 1.
	sc := []float64{0.5, 0.25, 2}
	s := mustTensor(t, tensor.Float32, []int64{3}, sc)
	got := quantRun(t, x, s, tensor.Int8, func(q *dsl.QuantizeLayer) { q.SetAxis(1) })
	var want []float64
	for i := 0; i < 4; i++ {
		for c := 0; c < 3; c++ {
			for k := 0; k < 6; k++ {
				want = append(want, round(float64(float32(xs[(i*3+c)*6+k])/float32(sc[c])), -128, 127))
			}
		}
	}
	checkClose(t, got, []int64{4, 3, 6}, want, 1)

	// Blocks of 3 along the last axis: scale [4,3,2], derived and explicit.
	sbv := randFloats(rng, 24, 0.5, 3)
	sb := mustTensor(t, tensor.Float32, []int64{4, 3, 2}, sbv)
	want = want[:0]
	for i := 0; i < 4; i++ {
		for c := 0; c < 3; c++ {
			for k := 0; k < 6; k++ {
				sv := float32(sbv[(i*3+c)*2+k/3])
				want = append(want, round(float64(float32(xs[(i*3+c)*6+k])/sv), -8, 7))
			}
		}
	}
	checkClose(t, quantRun(t, x, sb, tensor.Int4, nil), []int64{4, 3, 6}, want, 1)
	checkClose(t, quantRun(t, x, sb, tensor.Int4, func(q *dsl.QuantizeLayer) { q.SetBlockShape(dsl.Dims{1, 1, 3}) }), []int64{4, 3, 6}, want, 1)

	// Blocks along the second to last axis with a -1 (whole) block: scale [4,1,6].
	s2v := randFloats(rng, 24, 0.5, 3)
	s2 := mustTensor(t, tensor.Float32, []int64{4, 1, 6}, s2v)
	want = want[:0]
	for i := 0; i < 4; i++ {
		for c := 0; c < 3; c++ {
			for k := 0; k < 6; k++ {
				want = append(want, round(float64(float32(xs[(i*3+c)*6+k])/float32(s2v[i*6+k])), -8, 7))
			}
		}
	}
	checkClose(t, quantRun(t, x, s2, tensor.Int4, func(q *dsl.QuantizeLayer) { q.SetBlockShape(dsl.Dims{1, -1, 1}) }), []int64{4, 3, 6}, want, 1)
}

func TestDequantize(t *testing.T) {
	run := func(x, s *tensor.Tensor, out tensor.DataType, setup func(*dsl.DequantizeLayer), zp *tensor.Tensor) (*tensor.Tensor, error) {
		net := dsl.NewNetwork()
		d := net.AddDequantize(net.AddInput("x", x.DType(), x.Shape()), net.AddInput("s", s.DType(), dsl.Dims(s.Shape())), out)
		ins := map[string]*tensor.Tensor{"x": x, "s": s}
		if zp != nil {
			d.SetInput(2, net.AddInput("z", zp.DType(), zp.Shape()))
			ins["z"] = zp
		}
		if setup != nil {
			setup(d)
		}
		net.MarkOutput(d.Output(0))
		res, err := Run(net, ins)
		if err != nil {
			return nil, err
		}
		return res[d.Output(0).Name()], nil
	}
	// Per-tensor int8 with zero point: (q - 2) * 0.5.
	q := mustTensor(t, tensor.Int8, []int64{2, 2}, []float64{-128, 127, 3, -5})
	got, err := run(q, mustTensor(t, tensor.Float32, []int64{}, []float64{0.5}), tensor.Float32, nil, mustTensor(t, tensor.Int8, []int64{}, []float64{2}))
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, got, []int64{2, 2}, []float64{-65, 62.5, 0.5, -3.5}, 1)
	// Per-channel on axis 0 to float16, fp8 input.
	f8 := mustTensor(t, tensor.FP8E4M3, []int64{2, 3}, []float64{1, -2, 448, 0.5, 6, -0.125})
	got, err = run(f8, mustTensor(t, tensor.Float16, []int64{2}, []float64{3, 0.25}), tensor.Float16, func(d *dsl.DequantizeLayer) { d.SetAxis(0) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, got, []int64{2, 3}, []float64{3, -6, 1344, 0.125, 1.5, -0.03125}, 1)
	// Int4 blocks of 2 along axis 0, bfloat16 output.
	i4 := mustTensor(t, tensor.Int4, []int64{4, 2}, []float64{-8, 7, 1, 2, 3, -4, 5, 6})
	got, err = run(i4, mustTensor(t, tensor.Float32, []int64{2, 2}, []float64{1, 2, 0.5, 4}), tensor.BFloat16, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, got, []int64{4, 2}, []float64{-8, 14, 1, 4, 1.5, -16, 2.5, 24}, 1)
	// A non-positive scale is an error at run time.
	_, err = run(q, mustTensor(t, tensor.Float32, []int64{}, []float64{-1}), tensor.Float32, nil, nil)
	if !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("negative scale: %v, want OutOfRange", err)
	}
	// A dynamic per-channel scale whose size disagrees at run time.
	net := dsl.NewNetwork()
	d := net.AddDequantize(net.AddInput("x", tensor.Int8, dsl.Dims{2, 2}), net.AddInput("s", tensor.Float32, dsl.Dims{-1}), tensor.Float32)
	d.SetAxis(1)
	net.MarkOutput(d.Output(0))
	err = runErr(net, map[string]*tensor.Tensor{"x": q, "s": mustTensor(t, tensor.Float32, []int64{3}, []float64{1, 1, 1})})
	if !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("scale size: %v, want ShapeMismatch", err)
	}
}

func TestQuantizeEmpty(t *testing.T) {
	x := mustTensor(t, tensor.Float32, []int64{0, 3}, nil)
	got := quantRun(t, x, mustTensor(t, tensor.Float32, []int64{}, []float64{1}), tensor.Int8, nil)
	checkClose(t, got, []int64{0, 3}, nil, 1)
}

// quantExact compares quantized values exactly: the tolerance of fp8 would
// hide a wrong rounding.
func quantExact(t *testing.T, got *tensor.Tensor, want []float64) {
	t.Helper()
	g := got.Float64s()
	if len(g) != len(want) {
		t.Fatalf("got %d values, want %d", len(g), len(want))
	}
	for i := range g {
		if g[i] != want[i] {
			t.Fatalf("[%d] got %g, want %g (all: %v)", i, g[i], want[i], g)
		}
	}
}

func TestQuantizeLargeInt4(t *testing.T) {
	// Big enough to be split across goroutines; odd length so the last
	// Int4 byte is half used.
	const n = 40001
	x, xs := randTensor(t, newRNG(21), tensor.Float32, 1, n)
	got := quantRun(t, x, mustTensor(t, tensor.Float32, []int64{}, []float64{0.125}), tensor.Int4, nil)
	want := make([]float64, n)
	for i, v := range xs {
		r := math.RoundToEven(float64(float32(v) / 0.125))
		want[i] = math.Max(-8, math.Min(7, r))
	}
	quantExact(t, got, want)
	back := dequantRoundTrip(t, got)
	for i := range back {
		if back[i] != want[i]*0.125 {
			t.Fatalf("[%d] dequantized %g, want %g", i, back[i], want[i]*0.125)
		}
	}
}

// dequantRoundTrip dequantizes q with scale 0.125 into float32.
func dequantRoundTrip(t *testing.T, q *tensor.Tensor) []float64 {
	net := dsl.NewNetwork()
	d := net.AddDequantize(net.AddInput("q", q.DType(), q.Shape()), net.AddInput("s", tensor.Float32, dsl.Dims{}), tensor.Float32)
	net.MarkOutput(d.Output(0))
	out := runNet(t, net, map[string]*tensor.Tensor{"q": q, "s": mustTensor(t, tensor.Float32, []int64{}, []float64{0.125})})
	return out[d.Output(0).Name()].Float64s()
}
