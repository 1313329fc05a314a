package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerScatter, runScatter) }

// scatterIndex checks index v (element pos of the indices) against an
// axis of length n and wraps a negative one once.
func scatterIndex(l dsl.Layer, v, n, pos int64, axis int) (int64, error) {
	if v < -n || v >= n {
		return 0, layerErr(l, diag.OutOfRange, "index %d (element %d of %q) is out of range for axis %d of length %d; want [%d, %d)",
			v, pos, l.Input(1).Name(), axis, n, -n, n)
	}
	if v < 0 {
		v += n
	}
	return v, nil
}

func runScatter(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	s := l.(*dsl.ScatterLayer)
	data, indices, upd := in[0], in[1], in[2]
	ds, is, us := data.Shape(), indices.Shape(), upd.Shape()
	iv := indices.Int64Values()
	dst := strides(ds)
	var dstIdx, srcIdx []int64
	if s.Mode() == dsl.ScatterElement {
		axis, _ := dsl.NormalizeAxis(s.Axis(), len(ds))
		if !sameShape(is, us) {
			return nil, layerErr(l, diag.ShapeMismatch, "at run time, updates %v must have the shape of the indices %v", us, is)
		}
		for d := range is {
			if d != axis && is[d] > ds[d] {
				return nil, layerErr(l, diag.ShapeMismatch, "at run time, indices %v are larger than data %v along axis %d", is, ds, d)
			}
		}
		multi := make([]int64, len(is))
		for p := range iv {
			v, err := scatterIndex(l, iv[p], ds[axis], int64(p), axis)
			if err != nil {
				return nil, err
			}
			off := int64(0)
			for d, j := range multi {
				if d == axis {
					j = v
				}
				off += j * dst[d]
			}
			dstIdx = append(dstIdx, off)
			srcIdx = append(srcIdx, int64(p))
			for d := len(is) - 1; d >= 0; d-- {
				multi[d]++
				if multi[d] < is[d] {
					break
				}
				multi[d] = 0
			}
		}
	} else {
		q := len(is)
		k := int(is[q-1])
		want := append(append([]int64{}, is[:q-1]...), ds[k:]...)
		if !sameShape(us, want) {
			return nil, layerErr(l, diag.ShapeMismatch, "at run time, updates are %v; with indices %v and data %v they must be %v", us, is, ds, want)
		}
		tuples := tensor.Volume(is[:q-1])
		chunk := tensor.Volume(ds[k:])
		for t := int64(0); t < tuples; t++ {
			base := int64(0)
			for j := 0; j < k; j++ {
				pos := t*int64(k) + int64(j)
				v, err := scatterIndex(l, iv[pos], ds[j], pos, j)
				if err != nil {
					return nil, err
				}
				base += v * dst[j]
			}
			for i := int64(0); i < chunk; i++ {
				dstIdx = append(dstIdx, base+i)
				srcIdx = append(srcIdx, t*chunk+i)
			}
		}
	}
	out := data.Clone()
	datamovePut(out, upd, dstIdx, srcIdx)
	return []*tensor.Tensor{out}, nil
}
