package cpu

import (
	"slices"

	"github.com/trtc/trtc/dsl"
)

// einsumAsGemm runs two-operand equations that are batched matrix products
// (every label is a batch label in both inputs and the output, an M label
// in A and the output, an N label in B and the output, or a K label in both
// inputs only) on sgemm: the operands are transposed into [batch, M, K]
// and [batch, K, N], multiplied, and the product transposed into the
// output's order. It reports false for anything else (diagonals,
// broadcasting, labels summed within one operand, other operand counts).
func einsumAsGemm(spec *dsl.EinsumSpec, size []int64, dims []dsl.Dims, vals [][]float32) ([]float32, bool) {
	if len(vals) != 2 {
		return nil, false
	}
	a, b, out := spec.Operands[0], spec.Operands[1], spec.Output
	for i, ids := range spec.Operands {
		for j, id := range ids {
			if slices.Index(ids, id) != j || dims[i][j] != size[id] {
				return nil, false // diagonal or broadcast
			}
		}
	}
	var batch, ms, ns, ks []int
	for _, id := range a {
		inB, inOut := slices.Contains(b, id), slices.Contains(out, id)
		switch {
		case inB && inOut:
			batch = append(batch, id)
		case inOut:
			ms = append(ms, id)
		case inB:
			ks = append(ks, id)
		default:
			return nil, false // summed within A alone
		}
	}
	for _, id := range b {
		inA, inOut := slices.Contains(a, id), slices.Contains(out, id)
		switch {
		case !inA && inOut:
			ns = append(ns, id)
		case !inA:
			return nil, false // summed within B alone
		}
	}
	vol := func(ids []int) int {
		n := 1
		for _, id := range ids {
			n *= int(size[id])
		}
		return n
	}
	nb, m, n, k := vol(batch), vol(ms), vol(ns), vol(ks)
	if nb*m*n == 0 {
		return make([]float32, nb*m*n), true
	}
	ta := einsumPermute(vals[0], a, size, slices.Concat(batch, ms, ks))
	tb := einsumPermute(vals[1], b, size, slices.Concat(batch, ks, ns))
	c := make([]float32, nb*m*n)
	s := dsl.MatMulShape{Batch: dsl.Dims{int64(nb)}, BatchA: dsl.Dims{int64(nb)}, BatchB: dsl.Dims{int64(nb)},
		M: int64(m), N: int64(n), K: int64(k)}
	matmulBatched(s, ta, tb, c)
	return einsumPermute(c, slices.Concat(batch, ms, ns), size, out), true
}

// einsumPermute transposes src, whose dims carry the labels from, into the
// label order to (the same set of labels).
func einsumPermute(src []float32, from []int, size []int64, to []int) []float32 {
	if slices.Equal(from, to) {
		return src
	}
	shape := make([]int64, len(from))
	for j, id := range from {
		shape[j] = size[id]
	}
	sf := strides(shape)
	st := make([]int64, len(to)) // source stride of each destination dim
	dshape := make([]int64, len(to))
	for d, id := range to {
		st[d] = sf[slices.Index(from, id)]
		dshape[d] = size[id]
	}
	dst := make([]float32, len(src))
	idx := make([]int64, len(to))
	off := int64(0)
	for i := range dst {
		dst[i] = src[off]
		for d := len(to) - 1; d >= 0; d-- {
			idx[d]++
			off += st[d]
			if idx[d] < dshape[d] {
				break
			}
			off -= st[d] * idx[d]
			idx[d] = 0
		}
	}
	return dst
}
