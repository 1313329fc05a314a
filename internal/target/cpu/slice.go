package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerSlice, runSlice) }

// sliceParam returns the run-time value of a parameter: input i when set,
// else the layer's Dims.
func sliceParam(in []*tensor.Tensor, i int, d dsl.Dims) []int64 {
	if i < len(in) && in[i] != nil {
		return in[i].Int64Values()
	}
	return d
}

func runSlice(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	s := l.(*dsl.SliceLayer)
	x := in[0]
	dims := x.Shape()
	start, size, stride, err := dsl.SliceWindow(dims,
		sliceParam(in, 1, s.Start()), sliceParam(in, 2, s.Size()), sliceParam(in, 3, s.Stride()), sliceParam(in, 5, s.Axes()))
	if err != nil {
		return nil, layerErr(l, diag.CodeOf(err), "at run time: %s", err.(*diag.Error).Msg)
	}
	mode := s.Mode()
	// For each axis, the input index read by each output position (-1 for
	// the fill value).
	tables := make([][]int64, len(dims))
	for a := range dims {
		tables[a] = make([]int64, size[a])
		for j := range tables[a] {
			c := start[a] + int64(j)*stride[a]
			idx, ok := mode.MapCoord(c, dims[a])
			if !ok {
				if mode == dsl.SampleStrictBounds {
					return nil, layerErr(l, diag.OutOfRange, "at run time, the slice reads coordinate %d on axis %d of %v, outside [0, %d)", c, a, dims, dims[a])
				}
				return nil, layerErr(l, diag.OutOfRange, "at run time, sample mode %v cannot produce elements from axis %d of length 0 (input %v)", mode, a, dims)
			}
			tables[a][j] = idx
		}
	}
	st := strides(dims)
	n := tensor.Volume(size)
	idx := make([]int64, n)
	multi := make([]int64, len(size))
	for i := int64(0); i < n; i++ {
		off := int64(0)
		for a, j := range multi {
			v := tables[a][j]
			if v < 0 {
				off = -1
				break
			}
			off += v * st[a]
		}
		idx[i] = off
		for d := len(size) - 1; d >= 0; d-- {
			multi[d]++
			if multi[d] < size[d] {
				break
			}
			multi[d] = 0
		}
	}
	var fill *tensor.Tensor
	if len(in) > 4 {
		fill = in[4]
	}
	return []*tensor.Tensor{datamoveTake(x, size, idx, fill)}, nil
}
