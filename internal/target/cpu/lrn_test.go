package cpu

import (
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestLRNValues(t *testing.T) {
	rng := newRNG(31)
	for _, window := range []int64{1, 3, 5, 15} {
		for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
			t.Run(dt.String(), func(t *testing.T) {
				const alpha, beta, k = 0.7, 0.75, 2.0
				shape := []int64{2, 6, 3, 2}
				x, xs := randTensor(t, rng, dt, shape...)
				net := dsl.NewNetwork()
				in := net.AddInput("x", dt, dsl.Dims{-1, 6, 3, 2})
				l := net.AddLRN(in, window, alpha, beta, k)
				net.MarkOutput(l.Output(0))
				got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
				want := make([]float64, len(xs))
				at := func(n, c, s int64) int64 { return (n*6+c)*6 + s }
				for n := int64(0); n < 2; n++ {
					for c := int64(0); c < 6; c++ {
						for s := int64(0); s < 6; s++ {
							sq := 0.0
							for j := c - window/2; j <= c+window/2; j++ {
								if j >= 0 && j < 6 {
									sq += xs[at(n, j, s)] * xs[at(n, j, s)]
								}
							}
							want[at(n, c, s)] = xs[at(n, c, s)] / math.Pow(k+alpha/float64(window)*sq, beta)
						}
					}
				}
				checkClose(t, got, shape, roundTo(dt, want), int(window))
			})
		}
	}
}
