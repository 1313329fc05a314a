package cpu

import (
	"github.com/trtc/trtc/tensor"
)

// Helpers shared by the data-movement kernels (shuffle, slice, gather,
// concatenation, ...). They move elements without looking at their values,
// so every type, Int4 included, goes through the same code.

// datamoveTake builds a tensor of src's type and the given shape whose
// element i is src's element idx[i]. An index of -1 stores fill's first
// element instead (zero when fill is nil), for out-of-bounds reads that
// a mode defines.
func datamoveTake(src *tensor.Tensor, shape []int64, idx []int64, fill *tensor.Tensor) *tensor.Tensor {
	dt := src.DType()
	out := tensor.New(dt, shape...)
	if dt == tensor.Int4 {
		var fv int64
		if fill != nil && fill.Len() > 0 {
			fv = fill.Int64At(0)
		}
		for i, j := range idx {
			if j < 0 {
				out.SetInt64(int64(i), fv)
			} else {
				out.SetInt64(int64(i), src.Int64At(j))
			}
		}
		return out
	}
	es := dt.ByteSize(1)
	from, to := src.Bytes(), out.Bytes()
	var fillBytes []byte
	if fill != nil && fill.Len() > 0 {
		fillBytes = fill.Bytes()[:es]
	}
	parallelFor(len(idx), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			j := idx[i]
			dst := to[int64(i)*es : int64(i+1)*es]
			switch {
			case j >= 0:
				copy(dst, from[j*es:(j+1)*es])
			case fillBytes != nil:
				copy(dst, fillBytes)
			}
		}
	})
	return out
}

// datamoveReshaped returns a copy of t with a new shape of the same volume.
func datamoveReshaped(t *tensor.Tensor, shape []int64) *tensor.Tensor {
	out := tensor.New(t.DType(), shape...)
	copy(out.Bytes(), t.Bytes())
	return out
}

// datamoveTranspose permutes the axes of t: output axis i is input axis
// perm[i].
func datamoveTranspose(t *tensor.Tensor, perm []int) *tensor.Tensor {
	in := t.Shape()
	identity := true
	for i, p := range perm {
		if p != i {
			identity = false
		}
	}
	if identity {
		return t
	}
	outShape := make([]int64, len(perm))
	for i, p := range perm {
		outShape[i] = in[p]
	}
	st := strides(in)
	n := tensor.Volume(outShape)
	idx := make([]int64, n)
	multi := make([]int64, len(outShape))
	off := int64(0)
	for i := int64(0); i < n; i++ {
		idx[i] = off
		for d := len(outShape) - 1; d >= 0; d-- {
			multi[d]++
			off += st[perm[d]]
			if multi[d] < outShape[d] {
				break
			}
			off -= st[perm[d]] * multi[d]
			multi[d] = 0
		}
	}
	return datamoveTake(t, outShape, idx, nil)
}

// datamovePut copies src's element srcIdx[i] to dst's element dstIdx[i],
// in order, so a later write to the same element wins.
func datamovePut(dst, src *tensor.Tensor, dstIdx, srcIdx []int64) {
	dt := dst.DType()
	if dt == tensor.Int4 {
		for i, d := range dstIdx {
			dst.SetInt64(d, src.Int64At(srcIdx[i]))
		}
		return
	}
	es := dt.ByteSize(1)
	to, from := dst.Bytes(), src.Bytes()
	for i, d := range dstIdx {
		s := srcIdx[i]
		copy(to[d*es:(d+1)*es], from[s*es:(s+1)*es])
	}
}
