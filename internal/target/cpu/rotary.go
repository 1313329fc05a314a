package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerRotaryEmbedding, runRotaryEmbedding) }

func runRotaryEmbedding(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	r := l.(*dsl.RotaryEmbeddingLayer)
	shape := in[0].Shape()
	b, h, s, d := shape[0], shape[1], shape[2], shape[3]
	rot := int64(r.RotaryEmbeddingDim())
	if rot == 0 {
		rot = d
	}
	if rot > d || rot%2 != 0 {
		return nil, layerErr(l, diag.ShapeMismatch, "rotary dim %d does not fit the head size %d", rot, d)
	}
	half := rot / 2
	cosv, sinv := in[1].AsFloat32(), in[2].AsFloat32()
	cshape := in[1].Shape()
	// row[b*s+t] is the cache row of token (b, t).
	row := make([]int64, b*s)
	if ids := quantOptIn(in, 3); ids != nil {
		pos := ids.Int64Values()
		for i, p := range pos {
			if p < 0 || p >= cshape[0] {
				return nil, layerErr(l, diag.OutOfRange, "position id %d at index %d is outside the cache rows [0, %d)", p, i, cshape[0])
			}
			row[i] = p
		}
	} else {
		if cshape[0] != b || cshape[1] != s {
			return nil, layerErr(l, diag.ShapeMismatch, "caches %v do not match batch %d and sequence %d", cshape, b, s)
		}
		for i := range row {
			row[i] = int64(i)
		}
	}
	if cshape[len(cshape)-1] != half || !sameShape(cshape, in[2].Shape()) {
		return nil, layerErr(l, diag.ShapeMismatch, "caches %v and %v need %d values per row", cshape, in[2].Shape(), half)
	}
	x := in[0].AsFloat32()
	out := make([]float32, len(x))
	copy(out, x)
	parallelFor(int(b*h), 1, func(lo, hi int) {
		for bh := int64(lo); bh < int64(hi); bh++ {
			bi := bh / h
			for t := int64(0); t < s; t++ {
				base := (bh*s + t) * d
				c := cosv[row[bi*s+t]*half:]
				sn := sinv[row[bi*s+t]*half:]
				for p := int64(0); p < half; p++ {
					i1, i2 := base+p, base+p+half
					if r.Interleaved() {
						i1, i2 = base+2*p, base+2*p+1
					}
					x1, x2 := x[i1], x[i2]
					out[i1] = x1*c[p] - x2*sn[p]
					out[i2] = x2*c[p] + x1*sn[p]
				}
			}
		}
	})
	res, err := tensor.FromFloat32s(in[0].DType(), shape, out)
	return []*tensor.Tensor{res}, err
}
