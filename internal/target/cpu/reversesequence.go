package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerReverseSequence, runReverseSequence) }

func runReverseSequence(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	rs := l.(*dsl.ReverseSequenceLayer)
	x := in[0]
	shape := x.Shape()
	ba, sa := rs.BatchAxis(), rs.SequenceAxis()
	lens := in[1].Int64Values()
	if int64(len(lens)) != shape[ba] {
		return nil, layerErr(l, diag.ShapeMismatch, "at run time, %d sequence lengths for a batch axis of %d (input %v)", len(lens), shape[ba], shape)
	}
	for i, n := range lens {
		if n < 0 || n > shape[sa] {
			return nil, layerErr(l, diag.OutOfRange, "sequence length %d (entry %d of %q) is outside [0, %d], the length of sequence axis %d",
				n, i, l.Input(1).Name(), shape[sa], sa)
		}
	}
	st := strides(shape)
	n := x.Len()
	idx := make([]int64, n)
	multi := make([]int64, len(shape))
	for i := int64(0); i < n; i++ {
		src := i
		if s, b := multi[sa], multi[ba]; s < lens[b] {
			src += (lens[b] - 1 - 2*s) * st[sa]
		}
		idx[i] = src
		for d := len(shape) - 1; d >= 0; d-- {
			multi[d]++
			if multi[d] < shape[d] {
				break
			}
			multi[d] = 0
		}
	}
	return []*tensor.Tensor{datamoveTake(x, shape, idx, nil)}, nil
}
