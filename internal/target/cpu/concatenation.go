package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerConcatenation, runConcatenation) }

func runConcatenation(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	first := in[0]
	axis, _ := dsl.NormalizeAxis(l.(*dsl.ConcatenationLayer).Axis(), first.Rank())
	shape := first.Shape()
	shape[axis] = 0
	for i, t := range in {
		s := t.Shape()
		for d := range s {
			if d != axis && s[d] != shape[d] {
				return nil, layerErr(l, diag.ShapeMismatch, "at run time, input %d has shape %v but input 0 has %v; only axis %d may differ", i, s, first.Shape(), axis)
			}
		}
		shape[axis] += s[axis]
	}
	out := tensor.New(first.DType(), shape...)
	outer := tensor.Volume(shape[:axis])
	inner := tensor.Volume(shape[axis+1:])
	dt := first.DType()
	var off int64 // start of the current input's block within one outer row, in elements
	for _, t := range in {
		block := t.Dim(axis) * inner
		row := shape[axis] * inner
		if dt == tensor.Int4 {
			for o := int64(0); o < outer; o++ {
				for k := int64(0); k < block; k++ {
					out.SetInt64(o*row+off+k, t.Int64At(o*block+k))
				}
			}
		} else {
			es := dt.ByteSize(1)
			src, dst := t.Bytes(), out.Bytes()
			for o := int64(0); o < outer; o++ {
				copy(dst[(o*row+off)*es:(o*row+off+block)*es], src[o*block*es:(o+1)*block*es])
			}
		}
		off += block
	}
	return []*tensor.Tensor{out}, nil
}
