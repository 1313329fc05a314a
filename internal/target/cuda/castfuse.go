package cuda

import (
	"github.com/trtc/trtc/dsl"
)

// Casts around normalizations and softmaxes. A half-precision engine keeps
// layer norm and softmax in float32 (the autocast policy), so each one sits
// between a Cast up to float32 and a Cast back down. Those casts are
// folded into the kernel: it reads the half input and widens it on load
// (exact), and rounds its float result once to half on store, which is
// what the separate Cast did to the float32 it stored. The casts' tensors
// are never written; the casts become fused steps of the kernel, named by
// its step's Prologue and Epilogue.

// isWidening reports whether a cast from in to out is exact: half or
// bfloat16 to float32.
func isWidening(in, out dsl.DataType) bool {
	return out == dsl.Float32 && (in == dsl.Float16 || in == dsl.BFloat16)
}

// castFusable reports whether l runs as a kernel that can take a cast on
// its data input and output: softmax and normalization.
func castFusable(l dsl.Layer) bool {
	switch l.(type) {
	case *dsl.SoftMaxLayer, *dsl.NormalizationLayer:
		return true
	}
	return false
}

// fuseCasts finds the casts to fold into softmax and normalization
// kernels, before pointwise grouping, and records them in the steps:
// kinds of the folded casts become kindFused.
func fuseCasts(layers []dsl.Layer, kinds []string, steps []step) {
	index, consumers := stepsOf(layers)
	// plainCast reports whether step i is a cast that runs as a kernel.
	plainCast := func(i int) bool {
		_, ok := layers[i].(*dsl.CastLayer)
		return ok && kinds[i] == kindKernel
	}
	for i, l := range layers {
		if kinds[i] != kindKernel || !castFusable(l) || familyOf(l) != nil {
			continue
		}
		in := l.Input(0)
		if p, _ := in.Producer(); p != nil && !in.IsNetworkOutput() && len(consumers[in]) == 1 {
			if k := index[p]; plainCast(k) && isWidening(p.Input(0).Type(), in.Type()) {
				steps[i].Prologue = foldInto(kinds, steps, k, i)
			}
		}
		if _, norm := l.(*dsl.NormalizationLayer); norm {
			fuseResidualSum(layers, kinds, steps, i, index, consumers)
		}
		out := l.Output(0)
		if cs := consumers[out]; len(cs) == 1 && !out.IsNetworkOutput() && out.Type() == dsl.Float32 {
			if k := cs[0]; plainCast(k) && isFloat(layers[k].Output(0).Type()) {
				steps[i].Epilogue = foldInto(kinds, steps, k, i)
			}
		}
	}
}

// fuseResidualSum folds the sum of two tensors of the same dims and type
// that normalization step i reads (through its folded cast, if any) into
// its kernel: a transformer's residual connection before its layer norm.
// The kernel adds the two elements as the sum's own kernel would, rounded
// to the sum's type, and the sum's tensor is never written.
func fuseResidualSum(layers []dsl.Layer, kinds []string, steps []step, i int, index map[dsl.Layer]int, consumers map[*dsl.Tensor][]int) {
	in, _ := fusedIO(layers, steps[i])
	p, _ := in.Producer()
	e, ok := p.(*dsl.ElementWiseLayer)
	if !ok || e.Operation() != dsl.ElementWiseSum || in.IsNetworkOutput() || len(consumers[in]) != 1 || !in.Dims().IsStatic() {
		return
	}
	k := index[p]
	a, b := e.Input(0), e.Input(1)
	if kinds[k] != kindKernel || a == b || !isFloat(in.Type()) {
		return
	}
	for _, t := range []*dsl.Tensor{a, b} {
		if !t.Dims().Equal(in.Dims()) || t.Type() != in.Type() {
			return
		}
	}
	steps[i].Sum = foldInto(kinds, steps, k, i)
}

// foldInto makes step k a fused step that step i computes, and returns
// k + 1, the reference step i keeps (Prologue, Epilogue, Sum, ...).
func foldInto(kinds []string, steps []step, k, i int) int {
	kinds[k], steps[k].Kind, steps[k].Into = kindFused, kindFused, i
	return k + 1
}

// stepsOf maps each layer to its step and each tensor to the steps that
// read it.
func stepsOf(layers []dsl.Layer) (index map[dsl.Layer]int, consumers map[*dsl.Tensor][]int) {
	index, consumers = map[dsl.Layer]int{}, map[*dsl.Tensor][]int{}
	for i, l := range layers {
		index[l] = i
		for j := 0; j < l.NbInputs(); j++ {
			if t := l.Input(j); t != nil {
				consumers[t] = append(consumers[t], i)
			}
		}
	}
	return index, consumers
}

// fusedIO are the tensors step s reads as its data input and writes as
// its output, after what it folds in: the prologue's input (a cast, or a
// channels-last view), and the output of the last of its epilogue (a
// cast, a bias add, a view), residual sum and activation.
func fusedIO(layers []dsl.Layer, s step) (in, out *dsl.Tensor) {
	l := layers[s.Layer]
	in, out = l.Input(0), l.Output(0)
	if s.Prologue > 0 {
		in = layers[s.Prologue-1].Input(0)
	}
	if s.Epilogue > 0 {
		out = layers[s.Epilogue-1].Output(0)
	}
	if s.Residual > 0 {
		out = layers[s.Residual-1].Output(0)
	}
	if s.Activation > 0 {
		out = layers[s.Activation-1].Output(0)
	}
	return in, out
}
