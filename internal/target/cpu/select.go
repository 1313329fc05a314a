package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() {
	register(dsl.LayerSelect, runSelect)
	register(dsl.LayerParametricReLU, runParametricReLU)
}

func runSelect(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	cond, a, b := in[0], in[1], in[2]
	shape, err := dsl.BroadcastDims(cond.Shape(), a.Shape())
	if err == nil {
		shape, err = dsl.BroadcastDims(shape, b.Shape())
	}
	if err != nil {
		return nil, layerErr(l, diag.ShapeMismatch, "at run time: %v", err)
	}
	out := tensor.New(a.DType(), shape...)
	idx := broadcastIndex(shape, cond.Shape(), a.Shape(), b.Shape())
	// Copy raw elements: select never converts, so every type (Int4 aside,
	// which the byte copy below would split) moves bit for bit.
	if a.DType() == tensor.Int4 {
		for i := int64(0); i < out.Len(); i++ {
			src, j := b, idx[2][i]
			if cond.Bytes()[idx[0][i]] != 0 {
				src, j = a, idx[1][i]
			}
			out.SetInt64(i, src.Int64At(j))
		}
		return []*tensor.Tensor{out}, nil
	}
	size := int64(a.DType().Bits() / 8)
	cb, ab, bb, ob := cond.Bytes(), a.Bytes(), b.Bytes(), out.Bytes()
	for i := int64(0); i < out.Len(); i++ {
		src, j := bb, idx[2][i]
		if cb[idx[0][i]] != 0 {
			src, j = ab, idx[1][i]
		}
		copy(ob[i*size:(i+1)*size], src[j*size:(j+1)*size])
	}
	return []*tensor.Tensor{out}, nil
}

func runParametricReLU(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x, slope := in[0], in[1]
	shape := x.Shape()
	for i, s := range slope.Shape() {
		if s != 1 && s != shape[i] {
			return nil, layerErr(l, diag.ShapeMismatch, "at run time the slope %v does not broadcast to the input %v: dimension %d is %d, want 1 or %d", slope.Shape(), shape, i, s, shape[i])
		}
	}
	idx := broadcastIndex(shape, slope.Shape())[0]
	xs, ss := x.AsFloat32(), slope.AsFloat32()
	dst := make([]float32, len(xs))
	for i, v := range xs {
		if v < 0 {
			v *= ss[idx[i]]
		}
		dst[i] = v
	}
	out, err := tensor.FromFloat32s(x.DType(), shape, dst)
	return []*tensor.Tensor{out}, err
}
