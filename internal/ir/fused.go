package ir

import (
	"fmt"

	"github.com/trtc/trtc/dsl"
)

// FusedKind is a kind of fused layer group: a pattern of DSL layers a GPU
// target runs as one kernel. The CPU engine runs the member layers one by
// one, so a fusion never changes an answer; it tells a target what to
// generate.
type FusedKind int

// The fused kinds, with what they compute. Together with dsl.LayerType this
// is the op vocabulary of the IR.
const (
	FusedConvBiasActivation   FusedKind = iota // convolution (+ bias) + activation: one cuDNN fused conv
	FusedConvResidual                          // convolution (+ bias) + elementwise add of a residual (+ activation)
	FusedMatMulBiasActivation                  // matrix multiply + bias add (+ activation): a cuBLASLt epilogue
	FusedPointwise                             // a chain of pointwise layers (unary, activation, elementwise, cast, scale): one generated kernel
	FusedNormalization                         // mean/variance/scale reduction chain (LayerNorm written as reduces), or a Normalization layer with its affine
	FusedSoftMax                               // softmax, written as a SoftMax layer or as exp/reduce-sum/div
	FusedReduceChain                           // consecutive reductions and pointwise ops over the same axes
	numFusedKinds
)

var fusedNames = [...]string{
	"ConvBiasActivation", "ConvResidual", "MatMulBiasActivation", "Pointwise",
	"Normalization", "SoftMax", "ReduceChain",
}

func (k FusedKind) String() string {
	if k >= 0 && k < numFusedKinds {
		return fusedNames[k]
	}
	return fmt.Sprintf("FusedKind(%d)", int(k))
}

// AllFusedKinds lists every fused kind.
func AllFusedKinds() []FusedKind {
	ks := make([]FusedKind, numFusedKinds)
	for i := range ks {
		ks[i] = FusedKind(i)
	}
	return ks
}

// Fusion is one group of layers a target may run as one kernel. Layers are
// in execution order; the group's inputs are the tensors its layers read
// that no member produces, its outputs the member outputs read outside the
// group or marked as network outputs.
type Fusion struct {
	Kind   FusedKind
	Layers []dsl.Layer
}

// Names returns the member layers' names.
func (f *Fusion) Names() []string {
	s := make([]string, len(f.Layers))
	for i, l := range f.Layers {
		s[i] = l.Name()
	}
	return s
}
