// Package matmulop folds the swap of the last two axes out of a
// transpose that feeds a matrix multiply into the multiply's operation,
// as TensorRT does. Attention's keys are exported as a transpose of
// [batch, tokens, heads, head dim] to [batch, heads, head dim, tokens]:
// a transpose that moves the innermost axis (a tiled, shared-memory copy
// on the GPU) where [batch, heads, tokens, head dim], multiplied
// transposed, keeps it (a contiguous copy, or none), and the GEMM reads
// its operand transposed for free.
package matmulop

import (
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// TransposesIntoMatMul rewrites MatMul(Shuffle_p(x), ...) where p moves
// x's innermost axis to the second-to-last place into
// MatMul(Shuffle_q(x), ..., transposed), q being p with its last two
// entries swapped (no shuffle at all when q is the identity), or returns
// g when no matrix multiply qualifies. The shuffle must only transpose
// and be read by the multiply alone.
func TransposesIntoMatMul(g *ir.Graph, _ ir.Options) (*ir.Graph, error) {
	net := g.Net
	uses := ir.UseCounts(net)
	folds := map[dsl.Layer][2]dsl.Permutation{} // multiply -> q per operand (nil: none)
	folded := map[dsl.Layer]bool{}              // shuffles folded away
	for _, l := range net.TopoLayers() {
		mm, ok := l.(*dsl.MatrixMultiplyLayer)
		if !ok {
			continue
		}
		var qs [2]dsl.Permutation
		for i := 0; i < 2; i++ {
			if s, q, ok := foldable(mm, i, uses); ok {
				qs[i] = q
				folded[s] = true
			}
		}
		if qs[0] != nil || qs[1] != nil {
			folds[l] = qs
		}
	}
	if len(folds) == 0 {
		return g, nil
	}
	r := ir.NewRebuilder(net)
	for _, l := range net.TopoLayers() {
		qs, ok := folds[l]
		switch {
		case folded[l]:
		case ok:
			in := []*dsl.Tensor{r.Map(l.Input(0)), r.Map(l.Input(1))}
			for i, q := range qs {
				if q == nil {
					continue
				}
				s, _ := l.Input(i).Producer()
				x := r.Map(s.Input(0))
				if !q.IsIdentity() {
					sh := r.Dst.AddShuffle(x)
					sh.SetFirstTranspose(q)
					sh.SetName(s.Name())
					x = sh.Output(0)
				}
				in[i] = x
			}
			c := r.Dst.CopyLayer(l, in).(*dsl.MatrixMultiplyLayer)
			for i, q := range qs {
				if q != nil {
					c.SetOperation(i, dsl.MatrixOpTranspose)
				}
			}
			r.Alias(l.Output(0), c.Output(0))
		default:
			r.Copy(l)
		}
	}
	out, err := r.Finish()
	if err != nil {
		return nil, err
	}
	return g.Derive(out), nil
}

// foldable returns the shuffle producing operand i of mm and the
// permutation that replaces it when the swap of its last two axes can
// become the operand's transpose.
func foldable(mm *dsl.MatrixMultiplyLayer, i int, uses map[*dsl.Tensor]int) (*dsl.ShuffleLayer, dsl.Permutation, bool) {
	t := mm.Input(i)
	if mm.Operation(i) != dsl.MatrixOpNone || uses[t] != 1 || t.IsNetworkOutput() || t.Rank() < 2 {
		return nil, nil, false
	}
	p, _ := t.Producer()
	s, ok := p.(*dsl.ShuffleLayer)
	if !ok || s.Input(1) != nil || s.ReshapeDimensions() != nil || !s.SecondTranspose().IsIdentity() {
		return nil, nil, false
	}
	perm := s.FirstTranspose()
	r := len(perm)
	if r != t.Rank() || perm[r-2] != r-1 {
		return nil, nil, false // the transpose keeps the innermost axis already
	}
	q := append(dsl.Permutation(nil), perm...)
	q[r-2], q[r-1] = q[r-1], q[r-2]
	return s, q, true
}
