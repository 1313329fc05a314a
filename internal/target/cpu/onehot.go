package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerOneHot, runOneHot) }

func runOneHot(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	idx, vals, dep := in[0], in[1], in[2]
	if vals.Len() != 2 {
		return nil, layerErr(l, diag.ShapeMismatch, "at run time, values has %d elements; want [off_value, on_value]", vals.Len())
	}
	depth := dep.Int64At(0)
	if depth <= 0 {
		return nil, layerErr(l, diag.OutOfRange, "at run time, depth is %d; it must be positive", depth)
	}
	is := idx.Shape()
	axis, _ := dsl.NormalizeAxis(l.(*dsl.OneHotLayer).Axis(), len(is)+1)
	outer := tensor.Volume(is[:axis])
	inner := tensor.Volume(is[axis:])
	shape := append(append(append([]int64{}, is[:axis]...), depth), is[axis:]...)
	// Element (o, d, i) of the output reads values[1] when index (o, i)
	// is d, else values[0]: take from vals with positions 0 and 1.
	n := tensor.Volume(shape)
	pick := make([]int64, n)
	iv := idx.Int64Values()
	for o := int64(0); o < outer; o++ {
		for i := int64(0); i < inner; i++ {
			v := iv[o*inner+i]
			if v < 0 {
				v += depth
			}
			if v >= 0 && v < depth {
				pick[(o*depth+v)*inner+i] = 1
			}
		}
	}
	return []*tensor.Tensor{datamoveTake(vals, shape, pick, nil)}, nil
}
