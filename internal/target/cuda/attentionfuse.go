package cuda

import (
	"math"
	"slices"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// Attention's operands read and its output written through the head
// transposes. PyTorch exports multi-head attention's Q, K and V as a
// linear layer's output reshaped to [B, S, H, D] and transposed to
// [B, H, S, D], and the output transposed back: four copies of the
// activations per layer (BERT-base at batch 32: 48 copies, 0.45 ms of
// 3 ms). The tensor-core kernel reads each operand in either layout, so
// those transposes fold into the attention step (Views, Epilogue), as
// does the scale the attention pass moved onto Q (Scale: a product with
// a scalar constant, applied to the scores in float).

// headTranspose is the permutation between [B, S, H, D] and [B, H, S, D].
var headTranspose = dsl.Permutation{0, 2, 1, 3}

// fuseAttentionOperands finds, for every attention step the tensor-core
// kernel runs, the head transposes and the query scale it folds in.
func fuseAttentionOperands(layers []dsl.Layer, kinds []string, steps []step) {
	index, consumers := stepsOf(layers)
	only := func(t *dsl.Tensor, reader int) bool {
		cs := consumers[t]
		return len(cs) == 1 && cs[0] == reader && !t.IsNetworkOutput()
	}
	// view is the step of the head transpose that produces t for step
	// reader alone, or -1.
	view := func(t *dsl.Tensor, reader int) int {
		p, _ := t.Producer()
		sh, ok := p.(*dsl.ShuffleLayer)
		if !ok || kinds[index[p]] != kindCopy || !only(t, reader) || !isHeadTranspose(sh) {
			return -1
		}
		return index[p]
	}
	for i, l := range layers {
		if _, ok := l.(*dsl.AttentionLayer); !ok || kinds[i] != kindKernel || tensorCoreHeadDim(l) == 0 {
			continue
		}
		q := l.Input(0)
		if p, _ := q.Producer(); p != nil && kinds[index[p]] == kindKernel && only(q, i) {
			if x, _, ok := scaledBy(p); ok && x.Type() == q.Type() {
				steps[i].Scale = foldInto(kinds, steps, index[p], i)
				q = x
			}
		}
		views := make([]int, 3)
		for j, t := range []*dsl.Tensor{q, l.Input(1), l.Input(2)} {
			reader := i // Q's transpose is read by the folded scale, if any
			if j == 0 && steps[i].Scale > 0 {
				reader = steps[i].Scale - 1
			}
			if v := view(t, reader); v >= 0 {
				views[j] = foldInto(kinds, steps, v, i)
			}
		}
		if slices.ContainsFunc(views, func(v int) bool { return v > 0 }) {
			steps[i].Views = views
		}
		if out := l.Output(0); len(consumers[out]) == 1 && !out.IsNetworkOutput() {
			k := consumers[out][0]
			if sh, ok := layers[k].(*dsl.ShuffleLayer); ok && kinds[k] == kindCopy && isHeadTranspose(sh) {
				steps[i].Epilogue = foldInto(kinds, steps, k, i)
			}
		}
	}
}

// isHeadTranspose reports whether sh only swaps axes 1 and 2 of a rank 4
// tensor.
func isHeadTranspose(sh *dsl.ShuffleLayer) bool {
	return sh.Input(1) == nil && sh.ReshapeDimensions() == nil && sh.SecondTranspose().IsIdentity() &&
		slices.Equal(sh.FirstTranspose(), headTranspose) && sh.Input(0).Rank() == 4
}

// scaledBy reports whether l multiplies a tensor x by a one-element
// float constant, with the factor.
func scaledBy(l dsl.Layer) (*dsl.Tensor, float32, bool) {
	e, ok := l.(*dsl.ElementWiseLayer)
	if !ok || e.Operation() != dsl.ElementWiseProd {
		return nil, 0, false
	}
	for j := 0; j < 2; j++ {
		c, x := e.Input(j), e.Input(1-j)
		if f, ok := ir.ScalarConstant(c); ok && c != x && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return x, float32(f), true
		}
	}
	return nil, 0, false
}

// attentionOperands are the tensors an attention step reads for Q, K and
// V: its inputs, or what the folded scale and transposes read.
func attentionOperands(layers []dsl.Layer, s step) []*dsl.Tensor {
	l := layers[s.Layer]
	ops := []*dsl.Tensor{l.Input(0), l.Input(1), l.Input(2)}
	if s.Scale > 0 {
		ops[0], _, _ = scaledBy(layers[s.Scale-1])
	}
	for j, v := range s.Views {
		if v > 0 {
			ops[j] = layers[v-1].Input(0)
		}
	}
	return ops
}

// attentionLayout is how the tensor-core kernel of step s reads and
// writes: which operands are [B, S, H, D] (q, k, v, out) and the scale
// of the scores (1 for none).
type attentionLayout struct {
	bshd  [4]bool
	scale float32
}

func layoutOf(layers []dsl.Layer, s step) attentionLayout {
	a := attentionLayout{scale: 1}
	for j, v := range s.Views {
		a.bshd[j] = v > 0
	}
	a.bshd[3] = s.Epilogue > 0
	if s.Scale > 0 {
		_, a.scale, _ = scaledBy(layers[s.Scale-1])
	}
	return a
}
