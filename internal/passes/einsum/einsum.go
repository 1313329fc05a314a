// Package einsum rewrites Einsum layers that are transposes, sums or
// batched matrix products into Shuffle, Reduce and MatrixMultiply layers:
// every target runs those on its fast paths (the CUDA target has no
// Einsum kernel and would run one on the host; cuBLASLt runs the
// products), and the multiply's transposes then fold into its operations
// (the matmul-transposes pass). A diagonal (a label twice in one operand)
// is gathered first where its size is known; three or more operands are
// multiplied two at a time, left to right. Only a diagonal of a size known
// only at run time stays an Einsum layer.
package einsum

import (
	"fmt"
	"slices"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// AsMatMul rewrites every Einsum layer it can, or returns g when there is
// none.
func AsMatMul(g *ir.Graph, _ ir.Options) (*ir.Graph, error) {
	net := g.Net
	plans := map[dsl.Layer]chain{}
	for _, l := range net.TopoLayers() {
		if e, ok := l.(*dsl.EinsumLayer); ok {
			if p, ok := planOf(e); ok {
				plans[l] = p
			}
		}
	}
	if len(plans) == 0 {
		return g, nil
	}
	r := ir.NewRebuilder(net)
	for _, l := range net.TopoLayers() {
		p, ok := plans[l]
		if !ok {
			r.Copy(l)
			continue
		}
		in := make([]*dsl.Tensor, l.NbInputs())
		for i := range in {
			in[i] = r.Map(l.Input(i))
		}
		r.Alias(l.Output(0), p.build(r.Dst, in, l.Name()))
	}
	out, err := r.Finish()
	if err != nil {
		return nil, err
	}
	return g.Derive(out), nil
}

// rewrite is how one Einsum is computed: each operand's labels summed
// within it alone (reduced first), then for one operand a transpose to
// the output's order, for two a batched product of A as [batch..., M,
// K] and B as [batch..., K, N], its [batch..., M, N] reshaped to the
// labels and transposed to the output's order.
type rewrite struct {
	spec *dsl.EinsumSpec
	size []int64 // each label's size, -1 where known only at run time
	// batch, m, k, n are the labels of a product, batch in the output's
	// order; m, n in the output's order, k in A's.
	batch, m, k, n []int
}

// chain is an Einsum of any number of operands as one rewrite of one
// operand, or as products of two: the first two operands, then that
// result with the third, and so on, each result keeping the labels the
// later operands or the output need.
type chain []*rewrite

// build adds the chain's layers for inputs in and returns the tensor
// standing for the Einsum's output.
func (c chain) build(n *dsl.Network, in []*dsl.Tensor, name string) *dsl.Tensor {
	mixed := slices.ContainsFunc(in, func(t *dsl.Tensor) bool { return t.Type() != in[0].Type() })
	for i, t := range in {
		if mixed && t.Type() != dsl.Float32 {
			// Operands of both float types (TensorRT's Einsum takes
			// either, its output is float32): the products need one.
			cl := n.AddCast(t, dsl.Float32)
			cl.SetName(fmt.Sprintf("%s_cast%d", name, i))
			in[i] = cl.Output(0)
		}
	}
	if len(in) == 1 {
		return c[0].build(n, in, name)
	}
	x := in[0]
	for k, p := range c {
		stepName := name
		if len(c) > 1 {
			stepName = fmt.Sprintf("%s_%d", name, k)
		}
		x = p.build(n, []*dsl.Tensor{x, in[k+1]}, stepName)
	}
	return x
}

// planOf decides whether and how e is rewritten.
func planOf(e *dsl.EinsumLayer) (chain, bool) {
	if e.NbInputs() < 1 {
		return nil, false
	}
	ranks := make([]int, e.NbInputs())
	dims := make([]dsl.Dims, e.NbInputs())
	for i := range ranks {
		dims[i] = e.Input(i).Dims()
		ranks[i] = len(dims[i])
	}
	spec, err := dsl.ParseEinsum(e.Equation(), ranks)
	if err != nil {
		return nil, false
	}
	size, err := dsl.EinsumLabelSizes(spec, dims)
	if err != nil {
		return nil, false
	}
	for i, ids := range spec.Operands {
		for j, id := range ids {
			if slices.Index(ids, id) != j && size[id] < 0 {
				return nil, false // a diagonal of a size known only at run time
			}
			// A label of size 1 here broadcasts against a larger one
			// elsewhere: only a product's batch labels broadcast.
			if d := dims[i][j]; d != size[id] {
				return nil, false
			}
		}
	}
	if len(spec.Operands) == 1 {
		return chain{{spec: spec, size: size}}, true
	}
	var c chain
	acc := spec.Operands[0]
	for k := 1; k < len(spec.Operands); k++ {
		out := spec.Output
		if k < len(spec.Operands)-1 {
			out = nil // what the later operands or the output need, in order
			for _, id := range append(slices.Clone(acc), spec.Operands[k]...) {
				needed := slices.Contains(spec.Output, id)
				for _, later := range spec.Operands[k+1:] {
					needed = needed || slices.Contains(later, id)
				}
				if needed && !slices.Contains(out, id) {
					out = append(out, id)
				}
			}
		}
		pair := &dsl.EinsumSpec{Operands: [][]int{acc, spec.Operands[k]}, Output: out, NbLabels: spec.NbLabels}
		c = append(c, product(pair, size))
		acc = out
	}
	return c, true
}

// product classifies the labels of a two-operand spec.
func product(spec *dsl.EinsumSpec, size []int64) *rewrite {
	p := &rewrite{spec: spec, size: size}
	a, b := kept(spec, 0), kept(spec, 1)
	for _, id := range spec.Output {
		inA, inB := slices.Contains(a, id), slices.Contains(b, id)
		switch {
		case inA && inB:
			p.batch = append(p.batch, id)
		case inA:
			p.m = append(p.m, id)
		default:
			p.n = append(p.n, id)
		}
	}
	for _, id := range a {
		if slices.Contains(b, id) && !slices.Contains(spec.Output, id) {
			p.k = append(p.k, id)
		}
	}
	return p
}

// kept are operand i's labels that are not summed within it alone (that
// appear in the other operand or the output), in its order.
func kept(spec *dsl.EinsumSpec, i int) []int {
	var ids []int
	for _, id := range spec.Operands[i] {
		elsewhere := slices.Contains(spec.Output, id)
		for j, o := range spec.Operands {
			elsewhere = elsewhere || j != i && slices.Contains(o, id)
		}
		if elsewhere && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// merged is the reshape dim of a group of labels: the product of their
// sizes, -1 when one is unknown, 1 for none.
func merged(size []int64, ids []int) int64 {
	v := int64(1)
	for _, id := range ids {
		if size[id] < 0 {
			return -1
		}
		v *= size[id]
	}
	return v
}

// build adds the rewrite's layers for inputs in, named after the Einsum,
// and returns the tensor standing for its output.
//
// A product multiplies A as [batch..., mb..., 1..., M, K] by B as
// [batch..., 1..., nb..., N, K] read transposed: mb are A's output labels
// but the last (M), nb B's but the last (N), so the multiply's batch
// broadcasting runs them and no dim the build may not know is merged;
// only the contracted labels merge into K, the last dim, where the
// reshape copies every other dim (0). A missing M, N or K is a unit dim.
func (p *rewrite) build(n *dsl.Network, in []*dsl.Tensor, name string) *dsl.Tensor {
	labels := make([][]int, len(in))
	for i := range in {
		in[i], labels[i] = p.diagonals(n, in[i], i, fmt.Sprintf("%s_diagonal%d", name, i))
		in[i], labels[i] = p.sumAlone(n, in[i], labels[i], i, name)
	}
	if len(in) == 1 {
		return transpose(n, in[0], labels[0], p.spec.Output, name+"_transpose")
	}
	mb, ml := splitLast(p.m)
	nb, nl := splitLast(p.n)
	a := p.operand(n, in[0], labels[0], mb, len(p.batch)+len(mb), len(nb), ml, name+"_a")
	b := p.operand(n, in[1], labels[1], nb, len(p.batch), len(mb), nl, name+"_b")
	mm := n.AddMatrixMultiply(a, dsl.MatrixOpNone, b, dsl.MatrixOpTranspose)
	mm.SetName(name + "_matmul")
	y := mm.Output(0)
	// [batch..., mb..., nb..., M, N]: drop a missing M or N, then the
	// output's order.
	order := append(append(slices.Clone(p.batch), mb...), nb...)
	var drop []int64
	if ml < 0 {
		drop = append(drop, int64(len(order)))
	} else {
		order = append(order, ml)
	}
	if nl < 0 {
		drop = append(drop, int64(len(order)+len(drop)))
	} else {
		order = append(order, nl)
	}
	if len(drop) > 0 {
		sq := n.AddSqueeze(y, int64Vector(n, drop, name+"_squeeze_axes"))
		sq.SetName(name + "_squeeze")
		y = sq.Output(0)
	}
	return transpose(n, y, order, p.spec.Output, name+"_transpose")
}

// splitLast splits ids into all but the last and the last (-1 for none).
func splitLast(ids []int) ([]int, int) {
	if len(ids) == 0 {
		return nil, -1
	}
	return ids[:len(ids)-1], ids[len(ids)-1]
}

// operand lays out x (labels have) for the product: transposed to
// [batch..., lead..., row, contracted...], with unit dims inserted at
// unitsAt for the other operand's leading labels (A's mb come before
// B's nb), for a missing row (-1) and for no contracted label, and the
// contracted labels merged into one last dim.
func (p *rewrite) operand(n *dsl.Network, x *dsl.Tensor, have, lead []int, unitsAt, units, row int, name string) *dsl.Tensor {
	want := append(append(slices.Clone(p.batch), lead...), p.k...)
	if row >= 0 {
		want = slices.Insert(want, len(p.batch)+len(lead), row)
	}
	x = transpose(n, x, have, want, name+"_transpose")
	var axes []int64
	for j := 0; j < units; j++ {
		axes = append(axes, int64(unitsAt+j))
	}
	rank := len(want) + units
	if row < 0 { // the row's place: after the batch, leading and unit dims
		axes = append(axes, int64(len(p.batch)+len(lead)+units))
		rank++
	}
	if len(p.k) == 0 {
		axes = append(axes, int64(rank))
		rank++
	}
	if len(axes) > 0 {
		u := n.AddUnsqueeze(x, int64Vector(n, axes, name+"_unsqueeze_axes"))
		u.SetName(name + "_unsqueeze")
		x = u.Output(0)
	}
	if len(p.k) > 1 {
		s := n.AddShuffle(x)
		s.SetName(name + "_merge")
		d := make(dsl.Dims, rank-len(p.k), rank-len(p.k)+1) // zeros: copy every other dim
		s.SetReshapeDimensions(append(d, merged(p.size, p.k)))
		x = s.Output(0)
	}
	return x
}

// int64Vector is a constant Int64 vector (axes, indices).
func int64Vector(n *dsl.Network, vals []int64, name string) *dsl.Tensor {
	c := n.AddConstant(dsl.Dims{int64(len(vals))}, dsl.Int64Weights(vals...))
	c.SetName(name)
	return c.Output(0)
}

// diagonals takes operand i's diagonal for each label it repeats (whose
// size is known: planOf): the two axes moved last, merged, and gathered
// at every (size+1)-th element; it returns the result and its labels,
// each once.
func (p *rewrite) diagonals(n *dsl.Network, x *dsl.Tensor, i int, name string) (*dsl.Tensor, []int) {
	ids := slices.Clone(p.spec.Operands[i])
	for k := 0; ; k++ {
		j1, j2 := -1, -1
		for j, id := range ids {
			if at := slices.Index(ids, id); at != j {
				j1, j2 = at, j
				break
			}
		}
		if j1 < 0 {
			return x, ids
		}
		id, size := ids[j1], p.size[ids[j1]]
		var others []int
		var perm dsl.Permutation // by position: a label may repeat
		for j, o := range ids {
			if j != j1 && j != j2 {
				others = append(others, o)
				perm = append(perm, j)
			}
		}
		perm = append(perm, j1, j2)
		if !perm.IsIdentity() {
			t := n.AddShuffle(x)
			t.SetName(fmt.Sprintf("%s_%d_transpose", name, k))
			t.SetFirstTranspose(perm)
			x = t.Output(0)
		}
		s := n.AddShuffle(x)
		s.SetName(fmt.Sprintf("%s_%d_merge", name, k))
		s.SetReshapeDimensions(append(make(dsl.Dims, len(others)), size*size))
		at := make([]int64, size)
		for d := range at {
			at[d] = int64(d) * (size + 1)
		}
		g := n.AddGather(s.Output(0), int64Vector(n, at, fmt.Sprintf("%s_%d_indices", name, k)), len(others))
		g.SetName(fmt.Sprintf("%s_%d_gather", name, k))
		x, ids = g.Output(0), append(others, id)
	}
}

// sumAlone reduces operand i, whose dims carry labels ids, over the
// labels that appear nowhere else, returning the result and its labels.
func (p *rewrite) sumAlone(n *dsl.Network, x *dsl.Tensor, ids []int, i int, name string) (*dsl.Tensor, []int) {
	var axes uint32
	var rest []int
	for j, id := range ids {
		if slices.Contains(p.spec.Output, id) || len(p.spec.Operands) == 2 && slices.Contains(p.spec.Operands[1-i], id) {
			rest = append(rest, id)
		} else {
			axes |= 1 << j
		}
	}
	if axes == 0 {
		return x, ids
	}
	r := n.AddReduce(x, dsl.ReduceSum, axes, false)
	r.SetName(name + "_sum")
	return r.Output(0), rest
}

// transpose permutes x, whose dims carry labels have, to the order want
// (the same labels), or returns x when they are in order.
func transpose(n *dsl.Network, x *dsl.Tensor, have, want []int, name string) *dsl.Tensor {
	perm := make(dsl.Permutation, len(want))
	identity := true
	for i, id := range want {
		perm[i] = slices.Index(have, id)
		identity = identity && perm[i] == i
	}
	if identity {
		return x
	}
	s := n.AddShuffle(x)
	s.SetName(name)
	s.SetFirstTranspose(perm)
	return s.Output(0)
}
