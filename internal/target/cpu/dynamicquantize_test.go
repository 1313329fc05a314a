package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func dqRun(t *testing.T, net *dsl.Network, l *dsl.DynamicQuantizeLayer, ins map[string]*tensor.Tensor) (q, s *tensor.Tensor) {
	t.Helper()
	net.MarkOutput(l.Output(0))
	net.MarkOutput(l.Output(1))
	out := runNet(t, net, ins)
	return out[l.Output(0).Name()], out[l.Output(1).Name()]
}

func TestDynamicQuantizeInt8ByHand(t *testing.T) {
	// Blocks of 4 along the last axis. Block 0 has amax 127, so its scale is
	// exactly 1 and the ties show: 2.5 -> 2, -3.5 -> -4. Block 1 is all zero.
	// Block 2 has amax 254 (scale 2): 5 -> 2.5 -> 2, 7 -> 3.5 -> 4, -254 -> -127.
	// Block 3 has amax 12.7 (scale 0.1 in float32).
	xs := []float64{127, 2.5, -3.5, 0.25, 0, 0, 0, 0, 5, 7, -254, 1, 12.7, -12.7, 1, 0}
	net := dsl.NewNetwork()
	l := net.AddDynamicQuantizeV2(net.AddInput("x", tensor.Float32, dsl.Dims{2, -1}), dsl.Dims{1, 4}, tensor.Int8, tensor.Float32)
	q, s := dqRun(t, net, l, map[string]*tensor.Tensor{"x": mustTensor(t, tensor.Float32, []int64{2, 8}, xs)})
	quantExact(t, s, []float64{1, 0, 2, float64(float32(12.7) / 127)})
	quantExact(t, q, []float64{127, 2, -4, 0, 0, 0, 0, 0, 2, 4, -127, 0, 127, -127, 10, 0})
}

func TestDynamicQuantizeFP8DoubleScaleByHand(t *testing.T) {
	// g = 0.5. Block 0: amax 896 -> 896/448 = 2 -> stored fp8(2/0.5) = 4,
	// effective 4·0.5 = 2: data /2 = 448, 1.5, -5, 0.15 -> fp8 0.15625.
	// Block 1: amax 50 -> 50/448/0.5 = 0.2232 -> fp8 0.21875 (spacing 1/64),
	// effective 0.109375: 50/0.109375 = 457.1 saturates to 448; 1 -> 9.14 -> 9.
	xs := []float64{896, 3, -10, 0.3, 50, 1, -0, 0.5}
	net := dsl.NewNetwork()
	l := net.AddDynamicQuantizeV2(net.AddInput("x", tensor.Float16, dsl.Dims{-1, 4}), dsl.Dims{1, 4}, tensor.FP8E4M3, tensor.FP8E4M3)
	l.SetInput(1, net.AddInput("g", tensor.Float32, dsl.Dims{}))
	q, s := dqRun(t, net, l, map[string]*tensor.Tensor{
		"x": mustTensor(t, tensor.Float16, []int64{2, 4}, xs),
		"g": mustTensor(t, tensor.Float32, []int64{}, []float64{0.5}),
	})
	quantExact(t, s, []float64{4, 0.21875})
	// 0.5/0.109375 = 4.571 -> spacing 0.5 in [4, 8) -> 4.5.
	quantExact(t, q, []float64{448, 1.5, -5, 0.15625, 448, 9, 0, 4.5})
}

// dqNaive quantizes blocks of bs along the last axis of rows×cols data.
func dqNaive(xs []float64, rows, cols, bs int, qmax float64) (q, s []float64) {
	for r := 0; r < rows; r++ {
		for b := 0; b < cols/bs; b++ {
			amax := 0.0
			for k := 0; k < bs; k++ {
				amax = math.Max(amax, math.Abs(xs[r*cols+b*bs+k]))
			}
			sc := float32(amax) / float32(qmax)
			s = append(s, float64(sc))
		}
	}
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			sc := float32(s[r*(cols/bs)+c/bs])
			v := float64(float32(xs[r*cols+c]) / sc)
			q = append(q, math.Max(-qmax, math.Min(qmax, math.RoundToEven(v))))
		}
	}
	return q, s
}

func TestDynamicQuantizeDeprecatedAxis(t *testing.T) {
	rng := newRNG(9)
	x, xs := randTensor(t, rng, tensor.Float32, 3, 32)
	net := dsl.NewNetwork()
	l := net.AddDynamicQuantize(net.AddInput("x", tensor.Float32, dsl.Dims{-1, 32}), -1, 16, tensor.Int8, tensor.Float32)
	if d := l.Output(1).Dims(); !d.Equal(dsl.Dims{-1, 2}) {
		t.Fatalf("scale dims %v", d)
	}
	q, s := dqRun(t, net, l, map[string]*tensor.Tensor{"x": x})
	wq, ws := dqNaive(xs, 3, 32, 16, 127)
	for i := range wq { // -128 is never produced: amax maps to ±127
		if wq[i] < -127 {
			wq[i] = -127
		}
	}
	quantExact(t, s, ws)
	quantExact(t, q, wq)
}

func TestDynamicQuantizeColumnBlocks(t *testing.T) {
	// Block [2, -1]: two rows by the whole width share a scale.
	xs := []float64{1, 2, 3, -127, 5, 6, 7, 8, 0.5, 254, 1, 2}
	net := dsl.NewNetwork()
	l := net.AddDynamicQuantizeV2(net.AddInput("x", tensor.Float32, dsl.Dims{4, 3}), dsl.Dims{2, -1}, tensor.Int8, tensor.Float32)
	q, s := dqRun(t, net, l, map[string]*tensor.Tensor{"x": mustTensor(t, tensor.Float32, []int64{4, 3}, xs)})
	quantExact(t, s, []float64{1, 2})
	quantExact(t, q, []float64{1, 2, 3, -127, 5, 6, 4, 4, 0, 127, 0, 1})
}

func TestDynamicQuantizeRuntimeErrors(t *testing.T) {
	net := dsl.NewNetwork()
	l := net.AddDynamicQuantizeV2(net.AddInput("x", tensor.Float32, dsl.Dims{-1, 4}), dsl.Dims{2, 4}, tensor.Int8, tensor.Float32)
	net.MarkOutput(l.Output(0))
	net.MarkOutput(l.Output(1))
	x, _ := randTensor(t, newRNG(1), tensor.Float32, 3, 4)
	if err := runErr(net, map[string]*tensor.Tensor{"x": x}); !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("3 rows in blocks of 2: %v, want ShapeMismatch", err)
	}
	net = dsl.NewNetwork()
	l = net.AddDynamicQuantizeV2(net.AddInput("x", tensor.Float32, dsl.Dims{2, 4}), dsl.Dims{2, 4}, tensor.Int8, tensor.Float32)
	l.SetInput(1, net.AddInput("g", tensor.Float32, dsl.Dims{}))
	net.MarkOutput(l.Output(0))
	net.MarkOutput(l.Output(1))
	x, _ = randTensor(t, newRNG(1), tensor.Float32, 2, 4)
	err := runErr(net, map[string]*tensor.Tensor{"x": x, "g": mustTensor(t, tensor.Float32, []int64{}, []float64{-1})})
	if !errors.Is(err, diag.OutOfRange) {
		t.Fatalf("negative double scale: %v, want OutOfRange", err)
	}
}
