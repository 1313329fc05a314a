package cpu

import (
	"errors"
	"math"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func scaleWeights(t *testing.T, dt tensor.DataType, vals []float64) dsl.Weights {
	return dsl.NewWeights(mustTensor(t, dt, []int64{int64(len(vals))}, vals))
}

func TestScaleModes(t *testing.T) {
	rng := newRNG(9)
	// Input [2,3,2,2,2] (N, C, D, H, W): AddScale's channel axis is
	// rank-3 = 2; AddScaleNd uses axis 1.
	shape := []int64{2, 3, 2, 2, 2}
	for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		for _, mode := range dsl.AllScaleModes() {
			for _, nd := range []bool{false, true} {
				for _, wdt := range []tensor.DataType{dt, tensor.Float32} {
					axis := 2
					if nd {
						axis = 1
					}
					count := 1
					switch mode {
					case dsl.ScaleChannel:
						count = int(shape[axis])
					case dsl.ScaleElementwise:
						count = int(tensor.Volume(shape[axis:]))
					}
					x := mustTensor(t, dt, shape, randFloats(rng, 48, 0.1, 1))
					xs := x.Float64s()
					shift := scaleWeights(t, wdt, randFloats(rng, int64(count), 0.1, 1))
					scale := scaleWeights(t, wdt, randFloats(rng, int64(count), 0.5, 2))
					power := scaleWeights(t, wdt, randFloats(rng, int64(count), 0.5, 2))
					sh, sc, pw := shift.Tensor().Float64s(), scale.Tensor().Float64s(), power.Tensor().Float64s()
					net := dsl.NewNetwork()
					in := net.AddInput("x", dt, dsl.Dims{-1, 3, 2, 2, 2})
					var l *dsl.ScaleLayer
					if nd {
						l = net.AddScaleNd(in, mode, shift, scale, power, 1)
					} else {
						l = net.AddScale(in, mode, shift, scale, power)
					}
					net.MarkOutput(l.Output(0))
					got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
					want := make([]float64, 48)
					idx := 0
					for n := 0; n < 2; n++ {
						for c := 0; c < 3; c++ {
							for d := 0; d < 2; d++ {
								for h := 0; h < 2; h++ {
									for w := 0; w < 2; w++ {
										k := 0
										switch {
										case mode == dsl.ScaleChannel && axis == 1:
											k = c
										case mode == dsl.ScaleChannel:
											k = d
										case mode == dsl.ScaleElementwise && axis == 1:
											k = c*8 + d*4 + h*2 + w
										case mode == dsl.ScaleElementwise:
											k = d*4 + h*2 + w
										}
										want[idx] = math.Pow(xs[idx]*sc[k]+sh[k], pw[k])
										idx++
									}
								}
							}
						}
					}
					t.Run(dt.String()+"/"+mode.String(), func(t *testing.T) {
						checkClose(t, got, shape, roundTo(dt, want), 2)
					})
				}
			}
		}
	}
}

func TestScaleDefaultsAndEmpty(t *testing.T) {
	rng := newRNG(10)
	x, xs := randTensor(t, rng, tensor.Float32, 1, 2, 2, 2)
	net := dsl.NewNetwork()
	in := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 2, 2, 2})
	// Only a per-channel scale: shift 0 and power 1.
	l := net.AddScale(in, dsl.ScaleChannel, dsl.Weights{}, dsl.Float32Weights(2, -3), dsl.Weights{})
	net.MarkOutput(l.Output(0))
	got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
	want := make([]float64, 8)
	for i := range want {
		if i < 4 {
			want[i] = 2 * xs[i]
		} else {
			want[i] = -3 * xs[i]
		}
	}
	checkClose(t, got, []int64{1, 2, 2, 2}, want, 1)
	got = runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 0, 2, 2, 2)})[l.Output(0).Name()]
	if !sameShape(got.Shape(), []int64{0, 2, 2, 2}) {
		t.Fatalf("empty: %v", got.Shape())
	}
}

func TestScaleRuntimeCountMismatch(t *testing.T) {
	net := dsl.NewNetwork()
	in := net.AddInput("x", dsl.Float32, dsl.Dims{1, -1, 2, 2})
	l := net.AddScale(in, dsl.ScaleChannel, dsl.Float32Weights(1, 2, 3), dsl.Weights{}, dsl.Weights{})
	net.MarkOutput(l.Output(0))
	err := runErr(net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 1, 2, 2, 2)})
	if !errors.Is(err, diag.ShapeMismatch) {
		t.Fatalf("got %v, want ShapeMismatch", err)
	}
	runNet(t, net, map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 1, 3, 2, 2)})
}
