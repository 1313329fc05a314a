package cuda

import (
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/tensor"
)

// Channels-last convolutions. cuDNN runs half-precision convolutions on
// tensor cores in NHWC; on NCHW tensors its engines are several times
// slower (ResNet-50 at batch 32 in fp16 spent 3.0 of its 4.0 ms in NCHW
// convolutions). channelsLast rewrites the network so that every half
// 2-d convolution reads and writes channels-last tensors:
//
//	x --[to NHWC]--> x' --to NCHW--> conv --to NHWC--> y'
//
// The two shuffles around the convolution fold into its step
// (fuseChannelsLast), which runs cuDNN on x' and y' with NHWC
// descriptors. The layers between convolutions that do not care about
// layout (pointwise layers, reductions, max pooling through the same
// folding) run on the NHWC tensors themselves, their other inputs'
// dims permuted, so a reformat (a transpose) remains only where a layer
// needs NCHW: at network inputs and outputs, and before layers of other
// kinds. The rewritten network computes the same function with every
// layer keeping TensorRT's semantics (the CPU engine runs it as it is);
// only the CUDA plan knows that the shuffles around a convolution are a
// change of descriptors.

var (
	toNHWC = dsl.Permutation{0, 2, 3, 1}
	toNCHW = dsl.Permutation{0, 3, 1, 2}
)

// layoutRewrite is the state of one channelsLast rewrite.
type layoutRewrite struct {
	r *ir.Rebuilder
	// nhwc is the channels-last form of a tensor of the source network
	// in the new one; r.Map is the NCHW form. A tensor has one or both.
	nhwc map[*dsl.Tensor]*dsl.Tensor
}

// channelsLast rewrites net for channels-last half convolutions, or
// returns it unchanged (false) when it has none or has loops or
// conditionals (which the CUDA target refuses anyway).
func channelsLast(net *dsl.Network) (*dsl.Network, bool, error) {
	layers := net.TopoLayers()
	if len(ir.RegionMembers(net)) > 0 || !slices.ContainsFunc(layers, channelsLastConv) {
		return net, false, nil
	}
	w := &layoutRewrite{r: ir.NewRebuilder(net), nhwc: map[*dsl.Tensor]*dsl.Tensor{}}
	for _, l := range layers {
		switch {
		case channelsLastConv(l), channelsLastPool(l) && w.prefersNHWC(l):
			w.betweenViews(l)
		case isLayoutFree(l) && w.prefersNHWC(l):
			w.pointwise(l)
		case w.reduceNHWC(l):
		default:
			for j := 0; j < l.NbInputs(); j++ {
				if t := l.Input(j); t != nil {
					w.toNCHW(t)
				}
			}
			w.r.Copy(l)
		}
	}
	for _, o := range net.Outputs() {
		w.toNCHW(o)
	}
	out, err := w.r.Finish()
	return out, err == nil, err
}

// channelsLastConv reports whether l is a convolution the rewrite puts in
// NHWC: a 2-d half or bfloat16 one on cuDNN's path (kindConv).
func channelsLastConv(l dsl.Layer) bool {
	if _, ok := l.(*dsl.ConvolutionLayer); !ok || l.Input(0).Rank() != 4 {
		return false
	}
	dt := l.Input(0).Type()
	kind, _ := chooseKind(l, nil)
	return kind == kindConv && (dt == dsl.Float16 || dt == dsl.BFloat16)
}

// channelsLastPool reports whether l is a pooling layer with an NHWC
// kernel (max pooling over 4-d tensors).
func channelsLastPool(l dsl.Layer) bool {
	p, ok := l.(*dsl.PoolingLayer)
	return ok && p.PoolingType() == dsl.PoolingMax && l.Input(0).Rank() == 4 && len(p.WindowSizeNd()) == 2
}

// isLayoutFree reports whether l is a pointwise layer over 4-d tensors
// (every input of the output's rank): it computes each output element
// from the elements at the same coordinates of its inputs, so it
// computes the same on transposed inputs.
func isLayoutFree(l dsl.Layer) bool {
	if !isPointwise(l) || l.NbOutputs() != 1 || l.Output(0).Rank() != 4 {
		return false
	}
	for j := 0; j < l.NbInputs(); j++ {
		if t := l.Input(j); t == nil || t.Rank() != 4 {
			return false
		}
	}
	return true
}

// prefersNHWC reports whether one of l's inputs is channels-last already
// (and not NCHW), so running l in NHWC saves a reformat.
func (w *layoutRewrite) prefersNHWC(l dsl.Layer) bool {
	for j := 0; j < l.NbInputs(); j++ {
		if t := l.Input(j); t != nil && w.nhwc[t] != nil && !w.r.Mapped(t) {
			return true
		}
	}
	return false
}

// betweenViews writes a convolution or max pooling between the shuffles
// its step folds in (fuseChannelsLast).
func (w *layoutRewrite) betweenViews(l dsl.Layer) {
	in := w.transposed(w.toNHWC(l.Input(0)), toNCHW, l.Name()+"_nchw_view")
	c := w.r.Dst.CopyLayer(l, []*dsl.Tensor{in})
	w.nhwc[l.Output(0)] = w.transposed(c.Output(0), toNHWC, l.Name()+"_nhwc_view")
}

// pointwise writes l over the NHWC forms of its inputs.
func (w *layoutRewrite) pointwise(l dsl.Layer) {
	ins := make([]*dsl.Tensor, l.NbInputs())
	for j := range ins {
		ins[j] = w.toNHWC(l.Input(j))
	}
	c := w.r.Dst.CopyLayer(l, ins)
	w.nhwc[l.Output(0)] = c.Output(0)
}

// reduceNHWC writes a reduction of a channels-last tensor over the NHWC
// axes it names, when its output keeps the reduced dims (and is then
// channels-last too) or the kept dims keep their order.
func (w *layoutRewrite) reduceNHWC(l dsl.Layer) bool {
	rl, ok := l.(*dsl.ReduceLayer)
	if !ok || rl.Input(0).Rank() != 4 || !w.prefersNHWC(l) {
		return false
	}
	axes := rl.ReduceAxes()
	var mask uint32
	for k, a := range toNHWC { // NHWC axis k is NCHW axis a
		if axes&(1<<a) != 0 {
			mask |= 1 << k
		}
	}
	// Without kept dims, the result's axes are the kept ones in order:
	// C before H and W in NCHW, after them in NHWC.
	cKept := axes&(1<<1) == 0
	spatialKept := axes&(1<<2) == 0 || axes&(1<<3) == 0
	if !rl.KeepDimensions() && cKept && spatialKept {
		return false
	}
	c := w.r.Dst.CopyLayer(l, []*dsl.Tensor{w.toNHWC(l.Input(0))}).(*dsl.ReduceLayer)
	c.SetReduceAxes(mask)
	if rl.KeepDimensions() {
		w.nhwc[l.Output(0)] = c.Output(0)
	} else {
		w.r.Alias(l.Output(0), c.Output(0))
	}
	return true
}

// transposed is t shuffled by p.
func (w *layoutRewrite) transposed(t *dsl.Tensor, p dsl.Permutation, name string) *dsl.Tensor {
	s := w.r.Dst.AddShuffle(t)
	s.SetFirstTranspose(p)
	s.SetName(name)
	return s.Output(0)
}

// toNHWC is the channels-last form of t (a tensor of the source network),
// made from its NCHW form the first time.
func (w *layoutRewrite) toNHWC(t *dsl.Tensor) *dsl.Tensor {
	if v := w.nhwc[t]; v != nil {
		return v
	}
	v := w.reformat(w.r.Map(t), toNHWC, t.Name()+"_to_nhwc")
	w.nhwc[t] = v
	return v
}

// toNCHW makes t's NCHW form, from its channels-last one, where it has
// none yet.
func (w *layoutRewrite) toNCHW(t *dsl.Tensor) {
	if w.r.Mapped(t) {
		return
	}
	if v := w.nhwc[t]; v != nil {
		w.r.Alias(t, w.reformat(v, toNCHW, t.Name()+"_to_nchw"))
	}
}

// reformat is t permuted by p: a reshape where the permutation moves only
// dims of 1 (a bias of [1, C, 1, 1], a pooled [N, C, 1, 1]), so the bytes
// stay as they are, else a transpose.
func (w *layoutRewrite) reformat(t *dsl.Tensor, p dsl.Permutation, name string) *dsl.Tensor {
	d := t.Dims()
	var moved []int64
	for _, a := range p {
		moved = append(moved, d[a])
	}
	if !movesOnlyOnes(d, p) {
		return w.transposed(t, p, name)
	}
	s := w.r.Dst.AddShuffle(t)
	if d[0] < 0 {
		moved[0] = 0 // copies the batch dim
	}
	s.SetReshapeDimensions(dsl.Dims(moved))
	s.SetName(name)
	return s.Output(0)
}

// movesOnlyOnes reports whether permuting static dims d by p keeps the
// order of its dims other than 1 (and so every element's offset); only
// the batch dim may be dynamic, and p keeps it first.
func movesOnlyOnes(d dsl.Dims, p dsl.Permutation) bool {
	last := -1
	for _, a := range p {
		if a > 0 && d[a] < 0 {
			return false
		}
		if d[a] == 1 {
			continue
		}
		if a < last {
			return false
		}
		last = a
	}
	return true
}

// fuseChannelsLast folds the shuffles channelsLast writes around a
// convolution or max pooling into its step: the step reads the NHWC
// tensor the first shuffle reads and writes the one the second writes,
// and neither shuffle runs. Any network with that pattern qualifies.
func fuseChannelsLast(layers []dsl.Layer, kinds []string, steps []step) {
	index, consumers := stepsOf(layers)
	// view is the step of the shuffle by p that reads t as its only
	// consumer, or the producer of t when producer is set.
	view := func(t *dsl.Tensor, p dsl.Permutation, producer bool) (int, bool) {
		if len(consumers[t]) != 1 || t.IsNetworkOutput() {
			return 0, false
		}
		k := consumers[t][0]
		if producer {
			pl, _ := t.Producer()
			if pl == nil {
				return 0, false
			}
			k = index[pl]
		}
		sl, ok := layers[k].(*dsl.ShuffleLayer)
		if !ok || kinds[k] != kindCopy || sl.ReshapeDimensions() != nil || sl.Input(1) != nil ||
			!slices.Equal(sl.FirstTranspose(), p) || !sl.SecondTranspose().IsIdentity() {
			return 0, false
		}
		return k, true
	}
	for i, l := range layers {
		if kinds[i] != kindConv && (kinds[i] != kindKernel || !channelsLastPool(l)) || l.Input(0).Rank() != 4 {
			continue
		}
		pro, ok1 := view(l.Input(0), toNCHW, true)
		epi, ok2 := view(l.Output(0), toNHWC, false)
		if !ok1 || !ok2 {
			continue
		}
		steps[i].Prologue, steps[i].Epilogue = foldInto(kinds, steps, pro, i), foldInto(kinds, steps, epi, i)
	}
}

// isChannelsLast reports whether step s runs on NHWC tensors.
func isChannelsLast(layers []dsl.Layer, s step) bool {
	switch layers[s.Layer].(type) {
	case *dsl.ConvolutionLayer, *dsl.PoolingLayer:
		return s.Prologue > 0 && s.Epilogue > 0
	}
	return false
}

// channelsLastKernel is a convolution kernel of K x C x R x S elements
// (of any shape: weights are often flat) reordered to K x R x S x C, the
// filter layout of cuDNN's NHWC engines.
func channelsLastKernel(w *tensor.Tensor, kcrs [4]int64) (*tensor.Tensor, error) {
	k, c, r, s := kcrs[0], kcrs[1], kcrs[2], kcrs[3]
	if w.Len() != k*c*r*s {
		return nil, diag.Errorf(diag.EngineCorrupt, "a convolution kernel of %d elements is not %d x %d x %d x %d", w.Len(), k, c, r, s)
	}
	e := int64(w.DType().ByteSize(1))
	src := w.Bytes()
	dst := make([]byte, len(src))
	for a := int64(0); a < k; a++ {
		for b := int64(0); b < c; b++ {
			for y := int64(0); y < r*s; y++ {
				from := ((a*c+b)*r*s + y) * e
				to := ((a*r*s+y)*c + b) * e
				copy(dst[to:to+e], src[from:from+e])
			}
		}
	}
	return tensor.FromBytes(w.DType(), []int64{k, r, s, c}, dst)
}

// convKernelDims are a 2-d convolution's kernel dims: output maps, input
// channels per group, kernel height and width.
func convKernelDims(l *dsl.ConvolutionLayer) [4]int64 {
	ks := l.KernelSizeNd()
	return [4]int64{l.NbOutputMaps(), l.Input(0).Dims()[1] / max(l.NbGroups(), 1), ks[0], ks[1]}
}

// fuseConvActivations folds into a channels-last convolution's cuDNN
// graph (one of cuDNN's runtime-fused engines: conv, bias, residual
// sum, ReLU) what alone reads its output: a sum with a tensor of its dims
// computed before it (a residual connection), a ReLU, or the sum and then
// a ReLU. Only ungrouped convolutions with channels in multiples of 8,
// the shapes those engines take, qualify.
func fuseConvActivations(layers []dsl.Layer, kinds []string, steps []step) {
	index, consumers := stepsOf(layers)
	// next is the one layer that reads t, if it is a kernel step.
	next := func(t *dsl.Tensor) (int, bool) {
		if len(consumers[t]) != 1 || t.IsNetworkOutput() {
			return 0, false
		}
		k := consumers[t][0]
		return k, kinds[k] == kindKernel
	}
	for i, l := range layers {
		s := steps[i]
		if kinds[i] != kindConv || !isChannelsLast(layers, s) {
			continue
		}
		cl := l.(*dsl.ConvolutionLayer)
		if c := l.Input(0).Dims()[1]; cl.NbGroups() != 1 || c%8 != 0 || cl.NbOutputMaps()%8 != 0 {
			continue
		}
		_, out := fusedIO(layers, s)
		k, ok := next(out)
		if ok && residualOf(layers[k], out, i, index) != nil {
			steps[i].Residual = foldInto(kinds, steps, k, i)
			out = layers[k].Output(0)
			k, ok = next(out)
		}
		if act, isAct := layers[k].(*dsl.ActivationLayer); ok && isAct && act.ActivationType() == dsl.ActivationReLU {
			steps[i].Activation = foldInto(kinds, steps, k, i)
		}
	}
}

// residualOf is the other operand of l when l is a sum of out (a
// convolution's output, step i) and a tensor of the same dims and type
// that a step before i computes, else nil.
func residualOf(l dsl.Layer, out *dsl.Tensor, i int, index map[dsl.Layer]int) *dsl.Tensor {
	e, ok := l.(*dsl.ElementWiseLayer)
	if !ok || e.Operation() != dsl.ElementWiseSum {
		return nil
	}
	z := otherOperand(l, out)
	if z == out || !z.Dims().Equal(out.Dims()) || z.Type() != out.Type() {
		return nil
	}
	if p, _ := z.Producer(); p != nil && index[p] >= i {
		return nil
	}
	return z
}

// otherOperand is the input of a two-input layer that is not t (t itself
// when both are).
func otherOperand(l dsl.Layer, t *dsl.Tensor) *dsl.Tensor {
	if l.Input(0) == t {
		return l.Input(1)
	}
	return l.Input(0)
}

// residualInput is the tensor step s's convolution adds in its cuDNN
// graph, or nil: the residual sum's operand other than the
// convolution's NHWC output (its epilogue view's).
func residualInput(layers []dsl.Layer, s step) *dsl.Tensor {
	if s.Residual == 0 {
		return nil
	}
	return otherOperand(layers[s.Residual-1], layers[s.Epilogue-1].Output(0))
}
