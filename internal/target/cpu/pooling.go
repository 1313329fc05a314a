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
	axes := poolAxesFor(&g, end)
	src := x.AsFloat32()
	dst := make([]float32, tensor.Volume(outShape))
	planes := int(shape[0] * shape[1])
	P, I := g.outVol(), g.inVol()
	ptype, blend, exclude := pl.PoolingType(), pl.BlendFactor(), pl.AverageCountExcludesPadding()
	parallelFor(planes, 1, func(lo, hi int) {
		for pi := lo; pi < hi; pi++ {
			poolPlane(src[pi*I:(pi+1)*I], dst[pi*P:(pi+1)*P], &g, &axes, ptype, blend, exclude)
		}
	})
	out, err := perfOutput(x.DType(), outShape, dst)
	return []*tensor.Tensor{out}, err
}

// poolAxis holds, for each output position along one spatial dim, the
// window's overlap [a, b) with the real input and the length of its
// overlap with the padded input (what inclusive averages divide by). They
// are the same for every plane and every position along the other dims,
// so they are worked out once per layer instead of once per output.
type poolAxis struct{ a, b, padded []int }

// poolAxesFor computes the three axes of a geometry; end is where the
// padded input ends per dim.
func poolAxesFor(g *convGeom3, end [3]int) [3]poolAxis {
	var ax [3]poolAxis
	for k := range ax {
		n := g.out[k]
		ax[k] = poolAxis{make([]int, n), make([]int, n), make([]int, n)}
		for o := 0; o < n; o++ {
			lo := o*g.stride[k] - g.pre[k]
			ax[k].a[o] = min(max(lo, 0), g.in[k])
			ax[k].b[o] = max(min(lo+g.k[k], g.in[k]), ax[k].a[o]) // empty: b == a
			ax[k].padded[o] = max(min(lo+g.k[k], end[k])-max(lo, -g.pre[k]), 0)
		}
	}
	return ax
}

// poolPlane pools one plane. Along each output row, the columns whose
// window lies wholly inside the input (all but a few at the edges) are
// computed together by poolInterior; the edge columns, and every column of
// a blend, go through poolOne.
func poolPlane(x, o []float32, g *convGeom3, ax *[3]poolAxis, ptype dsl.PoolingType, blend float32, exclude bool) {
	OW := g.out[2]
	owA, owB := 0, 0
	if ptype != dsl.PoolingMaxAverageBlend {
		owA, owB = poolInteriorRange(g)
	}
	i := 0
	for od := 0; od < g.out[0]; od++ {
		for oh := 0; oh < g.out[1]; oh++ {
			seg := o[i : i+OW]
			i += OW
			for ow := 0; ow < owA; ow++ {
				seg[ow] = poolOne(x, g, ax, od, oh, ow, ptype, blend, exclude)
			}
			for ow := max(owA, owB); ow < OW; ow++ {
				seg[ow] = poolOne(x, g, ax, od, oh, ow, ptype, blend, exclude)
			}
			if owA < owB {
				poolInterior(seg[owA:owB], x, g, ax, od, oh, owA, ptype, exclude)
			}
		}
	}
}

// poolInteriorRange returns the output columns [a, b) whose windows lie
// wholly inside the input along the innermost dim.
func poolInteriorRange(g *convGeom3) (a, b int) {
	lo1, hi1 := convValidRange(-g.pre[2], g.stride[2], g.in[2], g.out[2])
	lo2, hi2 := convValidRange(-g.pre[2]+g.k[2]-1, g.stride[2], g.in[2], g.out[2])
	return max(lo1, lo2), min(hi1, hi2)
}

// poolInterior pools output columns ow0, ow0+1, ... of row (od, oh) into
// seg, every window wholly inside the input along the innermost dim. It
// runs tap by tap over all the columns at once, so consecutive max or add
// operations are independent instead of one long dependency chain per
// output. Each output still sees its taps in the same order (depth, row,
// column) as poolOne, so sums are bit for bit the same, and max does not
// depend on the order.
func poolInterior(seg, x []float32, g *convGeom3, ax *[3]poolAxis, od, oh, ow0 int, ptype dsl.PoolingType, exclude bool) {
	H, W, kw, sw := g.in[1], g.in[2], g.k[2], g.stride[2]
	d0, d1 := ax[0].a[od], ax[0].b[od]
	h0, h1 := ax[1].a[oh], ax[1].b[oh]
	init := float32(0)
	if ptype == dsl.PoolingMax {
		init = float32(math.Inf(-1))
	}
	for j := range seg {
		seg[j] = init
	}
	c0 := ow0*sw - g.pre[2] // first input column of the first window
	for d := d0; d < d1; d++ {
		for h := h0; h < h1; h++ {
			line := x[(d*H+h)*W : (d*H+h+1)*W]
			for t := 0; t < kw; t++ {
				src := line[c0+t:]
				if ptype == dsl.PoolingMax {
					for j := range seg {
						seg[j] = max(seg[j], src[j*sw])
					}
					continue
				}
				for j := range seg {
					seg[j] += src[j*sw]
				}
			}
		}
	}
	if ptype == dsl.PoolingMax {
		return
	}
	for j := range seg {
		count := ax[0].padded[od] * ax[1].padded[oh] * ax[2].padded[ow0+j]
		if exclude {
			count = (d1 - d0) * (h1 - h0) * kw
		}
		if count > 0 {
			seg[j] /= float32(count)
		} else {
			seg[j] = 0
		}
	}
}

// poolOne pools the single output (od, oh, ow).
func poolOne(x []float32, g *convGeom3, ax *[3]poolAxis, od, oh, ow int, ptype dsl.PoolingType, blend float32, exclude bool) float32 {
	H, W := g.in[1], g.in[2]
	d0, d1 := ax[0].a[od], ax[0].b[od]
	h0, h1 := ax[1].a[oh], ax[1].b[oh]
	w0, w1 := ax[2].a[ow], ax[2].b[ow]
	mx := float32(math.Inf(-1))
	sum := float32(0)
	for d := d0; d < d1; d++ {
		for h := h0; h < h1; h++ {
			for _, v := range x[(d*H+h)*W+w0 : (d*H+h)*W+w1] {
				mx = max(mx, v) // NaN propagates
				sum += v
			}
		}
	}
	if ptype == dsl.PoolingMax {
		return mx
	}
	count := ax[0].padded[od] * ax[1].padded[oh] * ax[2].padded[ow]
	if exclude {
		count = (d1 - d0) * (h1 - h0) * (w1 - w0)
	}
	avg := float32(0)
	if count > 0 {
		avg = sum / float32(count)
	}
	if ptype == dsl.PoolingAverage {
		return avg
	}
	return (1-blend)*mx + blend*avg
}
