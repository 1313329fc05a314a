package cpu

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerPooling, runPooling) }

// runPooling computes max, average or blended pooling over 2 or 3 spatial
// dims, one (image, channel) plane per work item.
func runPooling(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	pl := l.(*dsl.PoolingLayer)
	x := in[0]
	shape := x.Shape()
	win := pl.WindowSizeNd()
	geo := pl.Geometry(shape[2:])
	for i, o := range geo.Out {
		if o <= 0 && shape[2+i] != 0 {
			return nil, layerErr(l, diag.ShapeMismatch, "window %v does not fit input dims %v: output spatial dim %d would be %d", win, shape, i, o)
		}
	}
	outShape := append([]int64{shape[0], shape[1]}, geo.Out...)
	ones := make([]int64, len(win))
	for i := range ones {
		ones[i] = 1
	}
	g := newConvGeom3(shape[2:], geo.Out, win, pl.StrideNd(), ones, geo.Pre)
	// The padded extent ends at in+post; inclusive averages count the
	// window's overlap with it.
	var end [3]int
	for i := range end {
		end[i] = g.in[i]
	}
	off := 3 - len(win)
	for i, p := range geo.Post {
		end[off+i] += int(p)
	}
	src := x.AsFloat32()
	dst := make([]float32, tensor.Volume(outShape))
	planes := int(shape[0] * shape[1])
	P, I := g.outVol(), g.inVol()
	ptype, blend, exclude := pl.PoolingType(), pl.BlendFactor(), pl.AverageCountExcludesPadding()
	parallelFor(planes, 1, func(lo, hi int) {
		for pi := lo; pi < hi; pi++ {
			poolPlane(src[pi*I:(pi+1)*I], dst[pi*P:(pi+1)*P], &g, end, ptype, blend, exclude)
		}
	})
	out, err := tensor.FromFloat32s(x.DType(), outShape, dst)
	return []*tensor.Tensor{out}, err
}

// poolPlane pools one plane. end is where the padded input ends per dim.
func poolPlane(x, o []float32, g *convGeom3, end [3]int, ptype dsl.PoolingType, blend float32, exclude bool) {
	i := 0
	for od := 0; od < g.out[0]; od++ {
		d0 := od*g.stride[0] - g.pre[0]
		for oh := 0; oh < g.out[1]; oh++ {
			h0 := oh*g.stride[1] - g.pre[1]
			for ow := 0; ow < g.out[2]; ow++ {
				w0 := ow*g.stride[2] - g.pre[2]
				lo := [3]int{d0, h0, w0}
				// Overlap with the real input and with the padded input.
				padded := 1
				var a, b [3]int
				for k := 0; k < 3; k++ {
					a[k], b[k] = max(lo[k], 0), min(lo[k]+g.k[k], g.in[k])
					padded *= max(min(lo[k]+g.k[k], end[k])-max(lo[k], -g.pre[k]), 0)
				}
				mx := float32(math.Inf(-1))
				sum := float32(0)
				real := 0
				for d := a[0]; d < b[0]; d++ {
					for h := a[1]; h < b[1]; h++ {
						row := x[(d*g.in[1]+h)*g.in[2]:]
						for w := a[2]; w < b[2]; w++ {
							v := row[w]
							if v > mx || v != v { // NaN propagates
								mx = v
							}
							sum += v
							real++
						}
					}
				}
				count := padded
				if exclude {
					count = real
				}
				avg := float32(0)
				if count > 0 {
					avg = sum / float32(count)
				}
				switch ptype {
				case dsl.PoolingMax:
					o[i] = mx
				case dsl.PoolingAverage:
					o[i] = avg
				default:
					o[i] = (1-blend)*mx + blend*avg
				}
				i++
			}
		}
	}
}
