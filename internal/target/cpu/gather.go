package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerGather, runGather) }

func runGather(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	g := l.(*dsl.GatherLayer)
	switch g.Mode() {
	case dsl.GatherElement:
		return gatherElement(l, g, in[0], in[1])
	case dsl.GatherND:
		return gatherND(l, g, in[0], in[1])
	}
	return gatherDefault(l, g, in[0], in[1])
}

// gatherIndex checks index v (at flat position pos of the indices) against
// an axis of length n and wraps a negative one once.
func gatherIndex(l dsl.Layer, v, n, pos int64, axis int) (int64, error) {
	if v < -n || v >= n {
		return 0, layerErr(l, diag.OutOfRange, "index %d (element %d of %q) is out of range for axis %d of length %d; want [%d, %d)",
			v, pos, l.Input(1).Name(), axis, n, -n, n)
	}
	if v < 0 {
		v += n
	}
	return v, nil
}

func gatherDefault(l dsl.Layer, g *dsl.GatherLayer, data, indices *tensor.Tensor) ([]*tensor.Tensor, error) {
	ds, is := data.Shape(), indices.Shape()
	axis, _ := dsl.NormalizeAxis(g.GatherAxis(), len(ds))
	iv := indices.Int64Values()
	b := g.NbElementWiseDims()
	// Batches: with one elementwise dim, dim 0 of data and indices
	// broadcast; otherwise there is a single batch.
	batch, dataBatch, idxBatch := int64(1), int64(0), int64(0)
	first := 0
	if b == 1 {
		bd, err := dsl.BroadcastDims(dsl.Dims{ds[0]}, dsl.Dims{is[0]})
		if err != nil {
			return nil, layerErr(l, diag.ShapeMismatch, "at run time, the elementwise dim of data (%d) and indices (%d) cannot broadcast", ds[0], is[0])
		}
		batch, first = bd[0], 1
		if ds[0] != 1 {
			dataBatch = tensor.Volume(ds[1:])
		}
		if is[0] != 1 {
			idxBatch = tensor.Volume(is[1:])
		}
	}
	outer := tensor.Volume(ds[first:axis])
	n := ds[axis]
	inner := tensor.Volume(ds[axis+1:])
	perBatch := tensor.Volume(is[first:])
	var shape []int64
	if b == 1 {
		shape = append(shape, batch)
	}
	shape = append(shape, ds[first:axis]...)
	shape = append(shape, is[first:]...)
	shape = append(shape, ds[axis+1:]...)
	idx := make([]int64, 0, tensor.Volume(shape))
	for bt := int64(0); bt < batch; bt++ {
		for o := int64(0); o < outer; o++ {
			for k := int64(0); k < perBatch; k++ {
				pos := bt*idxBatch + k
				v, err := gatherIndex(l, iv[pos], n, pos, axis)
				if err != nil {
					return nil, err
				}
				base := bt*dataBatch + (o*n+v)*inner
				for i := int64(0); i < inner; i++ {
					idx = append(idx, base+i)
				}
			}
		}
	}
	return []*tensor.Tensor{datamoveTake(data, shape, idx, nil)}, nil
}

func gatherElement(l dsl.Layer, g *dsl.GatherLayer, data, indices *tensor.Tensor) ([]*tensor.Tensor, error) {
	ds, is := data.Shape(), indices.Shape()
	axis, _ := dsl.NormalizeAxis(g.GatherAxis(), len(ds))
	for d := range is {
		if d != axis && is[d] > ds[d] {
			return nil, layerErr(l, diag.ShapeMismatch, "at run time, indices %v are larger than data %v along axis %d, which is not the gather axis", is, ds, d)
		}
	}
	iv := indices.Int64Values()
	dst := strides(ds)
	idx := make([]int64, len(iv))
	multi := make([]int64, len(is))
	for p := range iv {
		v, err := gatherIndex(l, iv[p], ds[axis], int64(p), axis)
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
		idx[p] = off
		for d := len(is) - 1; d >= 0; d-- {
			multi[d]++
			if multi[d] < is[d] {
				break
			}
			multi[d] = 0
		}
	}
	return []*tensor.Tensor{datamoveTake(data, is, idx, nil)}, nil
}

func gatherND(l dsl.Layer, g *dsl.GatherLayer, data, indices *tensor.Tensor) ([]*tensor.Tensor, error) {
	ds, is := data.Shape(), indices.Shape()
	b := g.NbElementWiseDims()
	q := len(is)
	k := int(is[q-1])
	for d := 0; d < b; d++ {
		if ds[d] != is[d] {
			return nil, layerErr(l, diag.ShapeMismatch, "at run time, batch dim %d differs: data %v, indices %v", d, ds, is)
		}
	}
	batches := tensor.Volume(ds[:b])
	tuples := tensor.Volume(is[b : q-1]) // index tuples per batch
	chunk := tensor.Volume(ds[b+k:])     // elements each tuple selects
	batchSize := tensor.Volume(ds[b:])
	dst := strides(ds)
	iv := indices.Int64Values()
	shape := append(append([]int64{}, is[:q-1]...), ds[b+k:]...)
	idx := make([]int64, 0, tensor.Volume(shape))
	for bt := int64(0); bt < batches; bt++ {
		for t := int64(0); t < tuples; t++ {
			base := bt * batchSize
			for j := 0; j < k; j++ {
				pos := (bt*tuples+t)*int64(k) + int64(j)
				v, err := gatherIndex(l, iv[pos], ds[b+j], pos, b+j)
				if err != nil {
					return nil, err
				}
				base += v * dst[b+j]
			}
			for i := int64(0); i < chunk; i++ {
				idx = append(idx, base+i)
			}
		}
	}
	return []*tensor.Tensor{datamoveTake(data, shape, idx, nil)}, nil
}
