package cpu

import (
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerEinsum, runEinsum) }

func runEinsum(_ *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	eq := l.(*dsl.EinsumLayer).Equation()
	ranks := make([]int, len(in))
	dims := make([]dsl.Dims, len(in))
	for i, t := range in {
		ranks[i], dims[i] = t.Rank(), t.Shape()
	}
	spec, err := dsl.ParseEinsum(eq, ranks)
	if err != nil {
		return nil, layerErr(l, diag.InvalidNode, "%v", err)
	}
	size, err := dsl.EinsumLabelSizes(spec, dims)
	if err != nil {
		return nil, layerErr(l, diag.ShapeMismatch, "at run time, equation %q: %v", eq, err)
	}
	outShape := make([]int64, len(spec.Output))
	for i, id := range spec.Output {
		outShape[i] = size[id]
	}
	vals := make([][]float32, len(in))
	for i, t := range in {
		vals[i] = t.AsFloat32()
	}
	out, ok := einsumAsGemm(spec, size, dims, vals)
	if !ok {
		out = einsumNaive(spec, size, dims, vals)
	}
	t, err := tensor.FromFloat32(outShape, out)
	if err != nil {
		return nil, layerErr(l, diag.Internal, "%v", err)
	}
	return []*tensor.Tensor{t}, nil
}

// einsumStrides gives, per label, the step in an operand's flat index when
// that label advances: the sum of the strides of its dims (a repeated
// label walks the diagonal), 0 where the dim is a broadcast 1.
func einsumStrides(ids []int, shape []int64, size []int64) []int64 {
	st := make([]int64, len(size))
	s := strides(shape)
	for j, id := range ids {
		if shape[j] == 1 && size[id] != 1 {
			continue
		}
		st[id] += s[j]
	}
	return st
}

// einsumNaive sums over every contracted label for every output element,
// accumulating products in float64. It handles every equation.
func einsumNaive(spec *dsl.EinsumSpec, size []int64, dims []dsl.Dims, vals [][]float32) []float32 {
	var sum []int // labels used by an operand but not the output
	for _, ids := range spec.Operands {
		for _, id := range ids {
			if !slices.Contains(spec.Output, id) && !slices.Contains(sum, id) {
				sum = append(sum, id)
			}
		}
	}
	st := make([][]int64, len(vals))
	for i := range vals {
		st[i] = einsumStrides(spec.Operands[i], dims[i], size)
	}
	nOut := 1
	for _, id := range spec.Output {
		nOut *= int(size[id])
	}
	nSum := 1
	for _, id := range sum {
		nSum *= int(size[id])
	}
	out := make([]float32, nOut)
	if nSum == 0 {
		return out
	}
	parallelFor(nOut, max(1, 4096/max(nSum, 1)), func(lo, hi int) {
		base := make([]int64, len(vals))
		off := make([]int64, len(vals))
		idx := make([]int64, len(sum))
		for o := lo; o < hi; o++ {
			// Offsets of the output element's labels.
			clear(base)
			rem := int64(o)
			for d := len(spec.Output) - 1; d >= 0; d-- {
				id := spec.Output[d]
				x := rem % size[id]
				rem /= size[id]
				for i := range base {
					base[i] += x * st[i][id]
				}
			}
			copy(off, base)
			clear(idx)
			acc := 0.0
			for range nSum {
				p := 1.0
				for i, v := range vals {
					p *= float64(v[off[i]])
				}
				acc += p
				for d := len(sum) - 1; d >= 0; d-- {
					id := sum[d]
					idx[d]++
					for i := range off {
						off[i] += st[i][id]
					}
					if idx[d] < size[id] {
						break
					}
					for i := range off {
						off[i] -= st[i][id] * idx[d]
					}
					idx[d] = 0
				}
			}
			out[o] = float32(acc)
		}
	})
	return out
}
