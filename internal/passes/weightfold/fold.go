package weightfold

import (
	"math"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// folded is a convolution with the affine followers folded into it so far.
type folded struct {
	conv dsl.Layer // *dsl.ConvolutionLayer or *dsl.DeconvolutionLayer
	k    int64     // output channels
	// channelOf maps a kernel element's flat index to its output channel.
	channelOf func(i int64) int64
	// kernel and bias are the folded weights, in the types of the
	// original ones (the kernel's type for a bias the layer did not have);
	// nil until a follower folds. kv and bv hold them unrounded, so a chain
	// of followers rounds once.
	kernel, bias *tensor.Tensor
	kv, bv       []float64
	names        []string  // the convolution's name, then each follower's
	last         dsl.Layer // the layer whose output the folded layer stands for
}

// convWeights is what Convolution and Deconvolution share.
type convWeights interface {
	dsl.Layer
	NbOutputMaps() int64
	NbGroups() int64
	KernelWeights() dsl.Weights
	BiasWeights() dsl.Weights
	KernelSizeNd() dsl.Dims
}

// newFolded starts a fold at l when it is a convolution or deconvolution
// with constant float weights (no kernel or bias tensor input: a Q/DQ
// network's kernel is computed, not folded here).
func newFolded(l dsl.Layer) *folded {
	var isDeconv bool
	switch l.(type) {
	case *dsl.ConvolutionLayer:
	case *dsl.DeconvolutionLayer:
		isDeconv = true
	default:
		return nil
	}
	c := l.(convWeights)
	kw, bw := c.KernelWeights(), c.BiasWeights()
	if kw.IsEmpty() || c.Input(1) != nil || c.Input(2) != nil || !floatWeights(kw) || (!bw.IsEmpty() && !floatWeights(bw)) {
		return nil
	}
	k, groups := c.NbOutputMaps(), c.NbGroups()
	if k < 1 || groups < 1 || k%groups != 0 || bw.Count() != 0 && bw.Count() != k {
		return nil
	}
	taps := c.KernelSizeNd().Volume()
	n := kw.Count()
	if taps < 1 || n%taps != 0 {
		return nil
	}
	f := &folded{conv: l, k: k, names: []string{l.Name()}, last: l}
	if !isDeconv {
		// KCRS: output channel outermost.
		if n%k != 0 {
			return nil
		}
		per := n / k
		f.channelOf = func(i int64) int64 { return i / per }
		return f
	}
	// CKRS with groups outermost: input channel c belongs to group
	// c/(C/G), whose output channels are g*(K/G) ... (g+1)*(K/G)-1.
	kg := k / groups
	if n%(kg*taps) != 0 {
		return nil
	}
	cin := n / (kg * taps)
	if cin%groups != 0 {
		return nil
	}
	cg := cin / groups
	f.channelOf = func(i int64) int64 {
		c := i / (kg * taps)
		return (c/cg)*kg + (i/taps)%kg
	}
	return f
}

func floatWeights(w dsl.Weights) bool {
	switch w.Type() {
	case dsl.Float32, dsl.Float16, dsl.BFloat16:
		return true
	}
	return false
}

// outDims are the convolution's output dims.
func (f *folded) outDims() dsl.Dims { return f.conv.Output(0).Dims() }

// compose folds y*a + b (per output channel) into the weights, unless a
// folded value would not be finite in the weights' type; follower is the
// layer computing it.
func (f *folded) compose(a, b []float64, follower dsl.Layer) bool {
	c := f.conv.(convWeights)
	kt, bt := c.KernelWeights().Tensor(), c.BiasWeights().Tensor()
	kv, bv := f.kv, f.bv
	if kv == nil {
		kv, bv = kt.Float64s(), make([]float64, f.k)
		if bt != nil && bt.Len() == f.k {
			copy(bv, bt.Float64s())
		}
	}
	kv, bv = append([]float64(nil), kv...), append([]float64(nil), bv...)
	for i := range kv {
		kv[i] *= a[f.channelOf(int64(i))]
	}
	for i := range bv {
		bv[i] = bv[i]*a[i] + b[i]
	}
	btype := kt.DType()
	if bt != nil && bt.Len() > 0 {
		btype = bt.DType()
	}
	nk, err := tensor.FromFloat64s(kt.DType(), kt.Shape(), kv)
	if err != nil || !allFinite(nk.Float64s()) {
		return false
	}
	nb, err := tensor.FromFloat64s(btype, []int64{f.k}, bv)
	if err != nil || !allFinite(nb.Float64s()) {
		return false
	}
	f.kernel, f.bias, f.kv, f.bv = nk, nb, kv, bv
	f.names = append(f.names, follower.Name())
	f.last = follower
	return true
}

func allFinite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
