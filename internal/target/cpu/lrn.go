package cpu

import (
	"math"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerLRN, runLRN) }

// runLRN normalizes each element by the sum of squares over a window of
// channels at the same position (float64 for the sum and the power).
func runLRN(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	ll := l.(*dsl.LRNLayer)
	x := in[0]
	shape := x.Shape()
	N, C := shape[0], shape[1]
	S := tensor.Volume(shape[2:])
	half := ll.WindowSize() / 2
	alpha := float64(ll.Alpha()) / float64(ll.WindowSize())
	beta, k := float64(ll.Beta()), float64(ll.K())
	src := x.AsFloat32()
	dst := make([]float32, len(src))
	parallelFor(int(N*S), 64, func(lo, hi int) {
		for i := int64(lo); i < int64(hi); i++ {
			n, s := i/S, i%S
			base := n*C*S + s
			for c := int64(0); c < C; c++ {
				sum := 0.0
				for j := max(c-half, 0); j <= min(c+half, C-1); j++ {
					v := float64(src[base+j*S])
					sum += v * v
				}
				dst[base+c*S] = float32(float64(src[base+c*S]) / math.Pow(k+alpha*sum, beta))
			}
		}
	})
	out, err := tensor.FromFloat32s(x.DType(), shape, dst)
	return []*tensor.Tensor{out}, err
}
