package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerPadding, runPadding) }

// runPadding copies each innermost 2-d plane into a zeroed output plane at
// an offset; negative padding shifts the other way and crops. It works on
// raw bytes, so every element type whose zero is all-zero bits works.
func runPadding(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	pl := l.(*dsl.PaddingLayer)
	x := in[0]
	shape := x.Shape()
	r := len(shape)
	pre, post := pl.PrePaddingNd(), pl.PostPaddingNd()
	H, W := shape[r-2], shape[r-1]
	OH, OW := H+pre[0]+post[0], W+pre[1]+post[1]
	if OH < 0 || OW < 0 {
		return nil, layerErr(l, diag.ShapeMismatch, "padding %v/%v crops more than the input %v has", pre, post, shape)
	}
	outShape := append(append([]int64{}, shape[:r-2]...), OH, OW)
	out := tensor.New(x.DType(), outShape...)
	es := x.DType().ByteSize(1)
	src, dst := x.Bytes(), out.Bytes()
	planes := tensor.Volume(shape[:r-2])
	// Output column range [c0, c1) reads input columns [c0-pre, c1-pre).
	c0, c1 := max(pre[1], 0), min(OW, W+pre[1])
	parallelFor(int(planes), 1, func(lo, hi int) {
		for p := int64(lo); p < int64(hi); p++ {
			for oh := int64(0); oh < OH; oh++ {
				h := oh - pre[0]
				if h < 0 || h >= H || c0 >= c1 {
					continue
				}
				so := ((p*H+h)*W + c0 - pre[1]) * es
				do := ((p*OH+oh)*OW + c0) * es
				copy(dst[do:do+(c1-c0)*es], src[so:so+(c1-c0)*es])
			}
		}
	})
	return []*tensor.Tensor{out}, nil
}
