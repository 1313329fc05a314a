package cpu

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func TestPaddingValues(t *testing.T) {
	cases := []struct {
		name      string
		pre, post []int64
	}{
		{"pad", []int64{1, 2}, []int64{2, 0}},
		{"crop", []int64{-1, 0}, []int64{0, -2}},
		{"mixed", []int64{2, -1}, []int64{-1, 3}},
		{"crop all columns", []int64{0, -3}, []int64{0, -1}},
	}
	rng := newRNG(21)
	for _, tc := range cases {
		for _, dt := range []tensor.DataType{tensor.Float32, tensor.Float16, tensor.Int32, tensor.Int64, tensor.Int8} {
			t.Run(tc.name+"/"+dt.String(), func(t *testing.T) {
				const N, C, H, W = 2, 3, 3, 4
				x, xs := randTensor(t, rng, dt, N, C, H, W)
				net := dsl.NewNetwork()
				in := net.AddInput("x", dt, dsl.Dims{-1, C, H, -1})
				l := net.AddPaddingNd(in, tc.pre, tc.post)
				net.MarkOutput(l.Output(0))
				got := runNet(t, net, map[string]*tensor.Tensor{"x": x})[l.Output(0).Name()]
				OH, OW := H+tc.pre[0]+tc.post[0], W+tc.pre[1]+tc.post[1]
				want := make([]float64, 0, N*C*OH*OW)
				for p := int64(0); p < N*C; p++ {
					for oh := int64(0); oh < OH; oh++ {
						for ow := int64(0); ow < OW; ow++ {
							h, w := oh-tc.pre[0], ow-tc.pre[1]
							v := 0.0
							if h >= 0 && h < H && w >= 0 && w < W {
								v = xs[(p*H+h)*W+w]
							}
							want = append(want, v)
						}
					}
				}
				checkClose(t, got, []int64{N, C, OH, OW}, want, 1)
			})
		}
	}
}
