//go:build tensorrt

package tensorrt

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"unsafe"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// lowerer turns a dsl.Network into an INetworkDefinition, one TensorRT
// layer per DSL layer, every setter applied.
type lowerer struct {
	net       C.trtc_net
	sess      *session
	tensors   map[*dsl.Tensor]C.trtc_t
	loops     map[*dsl.Loop]unsafe.Pointer
	conds     map[*dsl.IfConditional]unsafe.Pointer
	cmem      []unsafe.Pointer // weights and strings TensorRT reads until the build ends
	later     []func() error   // inputs set after their producer is lowered (loop back edges)
	pluginIDs map[int64]bool
}

func (lw *lowerer) free() {
	for _, p := range lw.cmem {
		C.free(p)
	}
	lw.cmem = nil
}

func (lw *lowerer) cstr(s string) *C.char {
	p := C.CString(s)
	lw.cmem = append(lw.cmem, unsafe.Pointer(p))
	return p
}

// weights copies w into C memory that lives until the build ends.
func (lw *lowerer) weights(w dsl.Weights) C.trtc_weights {
	if w.IsEmpty() {
		return C.trtc_weights{_type: C.int32_t(w.Type())}
	}
	b := w.Tensor().Bytes()
	p := C.CBytes(b)
	lw.cmem = append(lw.cmem, p)
	return C.trtc_weights{_type: C.int32_t(w.Type()), values: p, count: C.int64_t(w.Count())}
}

// i64 passes a Go slice to C for the duration of one call (no Go pointers
// inside, so cgo's rules allow it).
func i64(d []int64) *C.int64_t {
	if len(d) == 0 {
		return nil
	}
	return (*C.int64_t)(unsafe.Pointer(&d[0]))
}

func i32(p []int) []C.int32_t {
	out := make([]C.int32_t, len(p))
	for i, v := range p {
		out[i] = C.int32_t(v)
	}
	return out
}

func p32(p []C.int32_t) *C.int32_t {
	if len(p) == 0 {
		return nil
	}
	return &p[0]
}

func b2i(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// in returns the TensorRT tensor of a DSL tensor already lowered, or nil.
func (lw *lowerer) in(t *dsl.Tensor) C.trtc_t {
	if t == nil {
		return nil
	}
	return lw.tensors[t]
}

func (lw *lowerer) list(ts []*dsl.Tensor) []C.trtc_t {
	out := make([]C.trtc_t, len(ts))
	for i, t := range ts {
		out[i] = lw.in(t)
	}
	return out
}

func tp(ts []C.trtc_t) *C.trtc_t {
	if len(ts) == 0 {
		return nil
	}
	return &ts[0]
}

func layerErr(l dsl.Layer, code diag.Code, format string, args ...any) error {
	e := diag.Errorf(code, format, args...)
	e.Layer, e.Op, e.Index, e.Loc = l.Name(), l.Type().String(), l.Index(), l.Location()
	return e
}

// lowerNetwork adds the network's inputs, layers and outputs.
func (lw *lowerer) lowerNetwork(n *dsl.Network) error {
	for _, t := range n.Inputs() {
		d := []int64(t.Dims())
		ct := C.trtc_net_add_input(lw.net, lw.cstr(t.Name()), C.int32_t(t.Type()), i64(d), C.int(len(d)))
		if ct == nil {
			return lw.sess.err("addInput " + t.Name())
		}
		lw.tensors[t] = ct
	}
	var errs diag.List
	for _, l := range n.TopoLayers() {
		if err := lw.lowerLayer(l); err != nil {
			var de *diag.Error
			if !errors.As(err, &de) {
				de = diag.Wrap(diag.Internal, err, "layer %q", l.Name())
			}
			errs = append(errs, de)
		}
	}
	if err := errs.Err(); err != nil {
		return err
	}
	for _, f := range lw.later {
		if err := f(); err != nil {
			return err
		}
	}
	for _, t := range n.Outputs() {
		ct := lw.in(t)
		if ct == nil {
			return diag.Errorf(diag.Internal, "output %q was not lowered", t.Name())
		}
		C.trtc_tensor_set_name(ct, lw.cstr(t.Name()))
		C.trtc_net_mark_output(lw.net, ct)
	}
	return nil
}

// lowerLayer adds one layer, names it and its outputs, and sets its
// optional inputs.
func (lw *lowerer) lowerLayer(l dsl.Layer) error {
	for i := 0; i < l.NbInputs(); i++ {
		if t := l.Input(i); t != nil && lw.in(t) == nil && !deferrable(l, i) {
			return layerErr(l, diag.Internal, "input %d (%q) is not lowered yet", i, t.Name())
		}
	}
	cl, first, err := lw.add(l)
	if err != nil {
		return err
	}
	if cl == nil && first == nil {
		return layerErr(l, diag.UnsupportedNode, "TensorRT refused the layer: %v", lw.sess.err("add"+l.Type().String()))
	}
	if cl != nil {
		C.trtc_layer_set_name(cl, lw.cstr(l.Name()))
		// Optional inputs (dynamic parameters as tensors: slice start,
		// shuffle reshape, resize output shape, fill alpha/beta, Q/DQ zero
		// point, convolution kernel and bias, loop back edges...): TensorRT
		// numbers them as the DSL does.
		for i := nbRequired(l); i < l.NbInputs(); i++ {
			t := l.Input(i)
			if t == nil {
				continue
			}
			i, t := i, t
			set := func() error {
				ct := lw.in(t)
				if ct == nil {
					return layerErr(l, diag.Internal, "input %d (%q) was never lowered", i, t.Name())
				}
				C.trtc_layer_set_input(cl, C.int(i), ct)
				return nil
			}
			if lw.in(t) == nil {
				lw.later = append(lw.later, set)
			} else if err := set(); err != nil {
				return err
			}
		}
	}
	for i := 0; i < l.NbOutputs(); i++ {
		var ct C.trtc_t
		if cl != nil {
			ct = C.trtc_layer_output(cl, C.int(i))
		} else {
			ct = C.trtc_attention_output(first, C.int(i))
		}
		if ct == nil {
			return layerErr(l, diag.Internal, "TensorRT's layer has no output %d", i)
		}
		C.trtc_tensor_set_name(ct, lw.cstr(l.Output(i).Name()))
		lw.tensors[l.Output(i)] = ct
	}
	return nil
}

// deferrable reports whether input i of l may be produced later (a loop
// recurrence's back edge).
func deferrable(l dsl.Layer, i int) bool { return l.Type() == dsl.LayerRecurrence && i == 1 }

// nbRequired is the number of inputs the add call itself takes; the rest
// go through ILayer::setInput.
func nbRequired(l dsl.Layer) int {
	switch l.Type() {
	case dsl.LayerConvolution, dsl.LayerDeconvolution, dsl.LayerActivation, dsl.LayerPooling, dsl.LayerLRN,
		dsl.LayerScale, dsl.LayerSoftMax, dsl.LayerUnary, dsl.LayerPadding, dsl.LayerShuffle, dsl.LayerReduce,
		dsl.LayerTopK, dsl.LayerIdentity, dsl.LayerCast, dsl.LayerSlice, dsl.LayerShape, dsl.LayerResize,
		dsl.LayerNonZero, dsl.LayerRecurrence, dsl.LayerIterator, dsl.LayerLoopOutput, dsl.LayerTripLimit,
		dsl.LayerCondition, dsl.LayerConditionalInput, dsl.LayerDynamicQuantize:
		return 1
	case dsl.LayerFill, dsl.LayerConstant:
		return 0
	case dsl.LayerElementWise, dsl.LayerGather, dsl.LayerMatrixMultiply, dsl.LayerRaggedSoftMax,
		dsl.LayerParametricReLU, dsl.LayerQuantize, dsl.LayerDequantize, dsl.LayerGridSample,
		dsl.LayerReverseSequence, dsl.LayerSqueeze, dsl.LayerUnsqueeze, dsl.LayerCumulative,
		dsl.LayerConditionalOutput:
		return 2
	case dsl.LayerSelect, dsl.LayerScatter, dsl.LayerOneHot, dsl.LayerNMS, dsl.LayerNormalization,
		dsl.LayerRotaryEmbedding, dsl.LayerKVCacheUpdate, dsl.LayerAttention:
		return 3
	}
	return l.NbInputs() // concatenation, einsum, plugin, assertion: all inputs at once
}

// add is the per-kind table: the TensorRT add* call with every setter.
// It returns the layer, or for Attention (not an ILayer) the IAttention.
func (lw *lowerer) add(l dsl.Layer) (C.trtc_l, unsafe.Pointer, error) {
	n := lw.net
	x := lw.in(l.Input(0))
	switch l := l.(type) {
	case *dsl.ConvolutionLayer:
		return lw.conv(l, x, l.NbOutputMaps(), l.KernelSizeNd(), l.KernelWeights(), l.BiasWeights(), l.StrideNd(), l.PrePadding(), l.PostPadding(), l.DilationNd(), l.PaddingMode(), l.NbGroups(), 0), nil, nil
	case *dsl.DeconvolutionLayer:
		return lw.conv(l, x, l.NbOutputMaps(), l.KernelSizeNd(), l.KernelWeights(), l.BiasWeights(), l.StrideNd(), l.PrePadding(), l.PostPadding(), l.DilationNd(), l.PaddingMode(), l.NbGroups(), 1), nil, nil
	case *dsl.CastLayer:
		return C.trtc_add_cast(n, x, C.int32_t(l.ToType())), nil, nil
	case *dsl.ActivationLayer:
		return C.trtc_add_activation(n, x, C.int32_t(l.ActivationType()), C.float(l.Alpha()), C.float(l.Beta())), nil, nil
	case *dsl.PoolingLayer:
		w := l.WindowSizeNd()
		s, pre, post := spread(l.StrideNd(), len(w), 1), spread(l.PrePadding(), len(w), 0), spread(l.PostPadding(), len(w), 0)
		return C.trtc_add_pooling(n, x, C.int32_t(l.PoolingType()), i64(w), C.int(len(w)), i64(s), i64(pre), i64(post), C.int32_t(l.PaddingMode()), C.float(l.BlendFactor()), b2i(l.AverageCountExcludesPadding())), nil, nil
	case *dsl.LRNLayer:
		return C.trtc_add_lrn(n, x, C.int64_t(l.WindowSize()), C.float(l.Alpha()), C.float(l.Beta()), C.float(l.K())), nil, nil
	case *dsl.ScaleLayer:
		return C.trtc_add_scale(n, x, C.int32_t(l.Mode()), lw.weights(l.Shift()), lw.weights(l.Scale()), lw.weights(l.Power()), C.int32_t(l.ChannelAxis())), nil, nil
	case *dsl.SoftMaxLayer:
		return C.trtc_add_softmax(n, x, C.uint32_t(l.Axes())), nil, nil
	case *dsl.ConcatenationLayer:
		ins := lw.list(inputs(l))
		return C.trtc_add_concatenation(n, tp(ins), C.int(len(ins)), C.int32_t(l.Axis())), nil, nil
	case *dsl.ElementWiseLayer:
		return C.trtc_add_elementwise(n, x, lw.in(l.Input(1)), C.int32_t(l.Operation())), nil, nil
	case *dsl.PluginLayer:
		return lw.plugin(l), nil, nil
	case *dsl.UnaryLayer:
		return C.trtc_add_unary(n, x, C.int32_t(l.Operation())), nil, nil
	case *dsl.PaddingLayer:
		pre, post := l.PrePaddingNd(), l.PostPaddingNd()
		return C.trtc_add_padding(n, x, i64(pre), i64(post), C.int(len(pre))), nil, nil
	case *dsl.ShuffleLayer:
		first, second := i32(l.FirstTranspose()), i32(l.SecondTranspose())
		r := l.ReshapeDimensions()
		return C.trtc_add_shuffle(n, x, p32(first), C.int(len(first)), b2i(r != nil), i64(r), C.int(len(r)), p32(second), C.int(len(second)), b2i(l.ZeroIsPlaceholder())), nil, nil
	case *dsl.ReduceLayer:
		return C.trtc_add_reduce(n, x, C.int32_t(l.Operation()), C.uint32_t(l.ReduceAxes()), b2i(l.KeepDimensions())), nil, nil
	case *dsl.TopKLayer:
		return C.trtc_add_topk(n, x, C.int32_t(l.Operation()), C.int32_t(l.K()), C.uint32_t(l.ReduceAxes()), C.int32_t(l.IndicesType())), nil, nil
	case *dsl.GatherLayer:
		return C.trtc_add_gather(n, x, lw.in(l.Input(1)), C.int32_t(l.Mode()), C.int32_t(l.GatherAxis()), C.int32_t(l.NbElementWiseDims())), nil, nil
	case *dsl.MatrixMultiplyLayer:
		return C.trtc_add_matrix_multiply(n, x, C.int32_t(l.Operation(0)), lw.in(l.Input(1)), C.int32_t(l.Operation(1))), nil, nil
	case *dsl.RaggedSoftMaxLayer:
		return C.trtc_add_ragged_softmax(n, x, lw.in(l.Input(1))), nil, nil
	case *dsl.ConstantLayer:
		d := []int64(l.Dimensions())
		return C.trtc_add_constant(n, i64(d), C.int(len(d)), lw.weights(l.Weights())), nil, nil
	case *dsl.IdentityLayer:
		return C.trtc_add_identity(n, x), nil, nil
	case *dsl.SliceLayer:
		start, size, stride, axes := l.Start(), l.Size(), l.Stride(), l.Axes()
		return C.trtc_add_slice(n, x, i64(start), i64(size), i64(stride), C.int(len(start)), i64(axes), C.int(len(axes)), C.int32_t(l.Mode())), nil, nil
	case *dsl.ShapeLayer:
		return C.trtc_add_shape(n, x), nil, nil
	case *dsl.ParametricReLULayer:
		return C.trtc_add_parametric_relu(n, x, lw.in(l.Input(1))), nil, nil
	case *dsl.ResizeLayer:
		out, sc := l.OutputDimensions(), l.Scales()
		var scp *C.float
		if len(sc) > 0 {
			scp = (*C.float)(unsafe.Pointer(&sc[0]))
		}
		return C.trtc_add_resize(n, x, i64(out), C.int(len(out)), scp, C.int(len(sc)), C.int32_t(l.ResizeMode()), C.int32_t(l.CoordinateTransformation()), C.int32_t(l.SelectorForSinglePixel()), C.int32_t(l.NearestRounding()), C.float(l.CubicCoeff()), b2i(l.ExcludeOutside())), nil, nil
	case *dsl.TripLimitLayer:
		return C.trtc_loop_add_trip_limit(lw.loop(l), x, C.int32_t(l.TripLimit())), nil, nil
	case *dsl.RecurrenceLayer:
		return C.trtc_loop_add_recurrence(lw.loop(l), x), nil, nil
	case *dsl.IteratorLayer:
		return C.trtc_loop_add_iterator(lw.loop(l), x, C.int32_t(l.Axis()), b2i(l.Reverse())), nil, nil
	case *dsl.LoopOutputLayer:
		return C.trtc_loop_add_output(lw.loop(l), x, C.int32_t(l.LoopOutput()), C.int32_t(l.Axis())), nil, nil
	case *dsl.SelectLayer:
		return C.trtc_add_select(n, x, lw.in(l.Input(1)), lw.in(l.Input(2))), nil, nil
	case *dsl.FillLayer:
		d := []int64(l.Dimensions())
		return C.trtc_add_fill(n, i64(d), C.int(len(d)), C.int32_t(l.Operation()), C.int32_t(l.ToType()), C.double(l.Alpha()), C.double(l.Beta())), nil, nil
	case *dsl.QuantizeLayer:
		b := []int64(l.BlockShape())
		return C.trtc_add_quantize(n, x, lw.in(l.Input(1)), C.int32_t(l.ToType()), C.int32_t(l.Axis()), i64(b), C.int(len(b)), 0), nil, nil
	case *dsl.DequantizeLayer:
		b := []int64(l.BlockShape())
		return C.trtc_add_quantize(n, x, lw.in(l.Input(1)), C.int32_t(l.ToType()), C.int32_t(l.Axis()), i64(b), C.int(len(b)), 1), nil, nil
	case *dsl.ConditionLayer:
		return C.trtc_if_set_condition(lw.cond(l), x), nil, nil
	case *dsl.ConditionalInputLayer:
		return C.trtc_if_add_input(lw.cond(l), x), nil, nil
	case *dsl.ConditionalOutputLayer:
		return C.trtc_if_add_output(lw.cond(l), x, lw.in(l.Input(1))), nil, nil
	case *dsl.ScatterLayer:
		return C.trtc_add_scatter(n, x, lw.in(l.Input(1)), lw.in(l.Input(2)), C.int32_t(l.Mode()), C.int32_t(l.Axis())), nil, nil
	case *dsl.EinsumLayer:
		ins := lw.list(inputs(l))
		return C.trtc_add_einsum(n, tp(ins), C.int(len(ins)), lw.cstr(l.Equation())), nil, nil
	case *dsl.AssertionLayer:
		return C.trtc_add_assertion(n, x, lw.cstr(l.Message())), nil, nil
	case *dsl.OneHotLayer:
		return C.trtc_add_one_hot(n, x, lw.in(l.Input(1)), lw.in(l.Input(2)), C.int32_t(l.Axis())), nil, nil
	case *dsl.NonZeroLayer:
		return C.trtc_add_non_zero(n, x, C.int32_t(l.IndicesType())), nil, nil
	case *dsl.GridSampleLayer:
		return C.trtc_add_grid_sample(n, x, lw.in(l.Input(1)), C.int32_t(l.InterpolationMode()), b2i(l.AlignCorners()), C.int32_t(l.SampleMode())), nil, nil
	case *dsl.NMSLayer:
		return C.trtc_add_nms(n, x, lw.in(l.Input(1)), lw.in(l.Input(2)), C.int32_t(l.IndicesType()), C.int32_t(l.BoundingBoxFormat()), C.int32_t(l.TopKBoxLimit())), nil, nil
	case *dsl.ReverseSequenceLayer:
		return C.trtc_add_reverse_sequence(n, x, lw.in(l.Input(1)), C.int32_t(l.BatchAxis()), C.int32_t(l.SequenceAxis())), nil, nil
	case *dsl.NormalizationLayer:
		return C.trtc_add_normalization(n, x, lw.in(l.Input(1)), lw.in(l.Input(2)), C.uint32_t(l.Axes()), C.float(l.Epsilon()), C.int64_t(l.NbGroups()), b2i(l.IsV2())), nil, nil
	case *dsl.SqueezeLayer:
		return C.trtc_add_squeeze(n, x, lw.in(l.Input(1)), 0), nil, nil
	case *dsl.UnsqueezeLayer:
		return C.trtc_add_squeeze(n, x, lw.in(l.Input(1)), 1), nil, nil
	case *dsl.CumulativeLayer:
		return C.trtc_add_cumulative(n, x, lw.in(l.Input(1)), C.int32_t(l.Operation()), b2i(l.Exclusive()), b2i(l.Reverse())), nil, nil
	case *dsl.DynamicQuantizeLayer:
		b := []int64(l.EffectiveBlockShape())
		return C.trtc_add_dynamic_quantize(n, x, i64(b), C.int(len(b)), C.int32_t(l.ToType()), C.int32_t(l.ScaleType())), nil, nil
	case *dsl.AttentionLayer:
		if l.KeyValueLengths() != nil {
			return nil, nil, layerErr(l, diag.UnsupportedAttr, "key/value lengths have no counterpart in TensorRT's IAttention (headers %s); express them as a mask", versionString(int(C.trtc_header_version())))
		}
		a := C.trtc_add_attention(n, x, lw.in(l.Input(1)), lw.in(l.Input(2)), C.int32_t(l.NormalizationOperation()), C.int32_t(l.CausalKind()), lw.in(l.Mask()), b2i(l.Decomposable()), lw.in(l.NormalizationQuantizeScale()), C.int32_t(l.NormalizationQuantizeToType()), lw.cstr(l.Name()))
		if a == nil && l.CausalKind() == dsl.CausalMaskLowerRight && C.trtc_header_version() < 110000 {
			return nil, nil, layerErr(l, diag.UnsupportedAttr, "a lower-right causal mask needs TensorRT 11 (this trtc was compiled against TensorRT %s)", versionString(int(C.trtc_header_version())))
		}
		return nil, a, nil
	case *dsl.RotaryEmbeddingLayer:
		return C.trtc_add_rotary_embedding(n, x, lw.in(l.Input(1)), lw.in(l.Input(2)), b2i(l.Interleaved()), C.int32_t(l.RotaryEmbeddingDim())), nil, nil
	case *dsl.KVCacheUpdateLayer:
		return C.trtc_add_kv_cache_update(n, x, lw.in(l.Input(1)), lw.in(l.Input(2)), C.int32_t(l.CacheMode())), nil, nil
	}
	return nil, nil, layerErr(l, diag.UnsupportedNode, "layer kind %v has no TensorRT lowering", l.Type())
}

func (lw *lowerer) conv(l dsl.Layer, x C.trtc_t, k int64, kernel dsl.Dims, kw, bw dsl.Weights, stride, pre, post, dil dsl.Dims, mode dsl.PaddingMode, groups int64, deconv C.int) C.trtc_l {
	r := len(kernel)
	s, a, b, d := spread(stride, r, 1), spread(pre, r, 0), spread(post, r, 0), spread(dil, r, 1)
	return C.trtc_add_convolution(lw.net, x, C.int64_t(k), i64(kernel), C.int(r), lw.weights(kw), lw.weights(bw), i64(s), i64(a), i64(b), i64(d), C.int32_t(mode), C.int64_t(groups), deconv)
}

// spread gives dims of rank r with def where d is shorter (the DSL
// normally gives every value; TensorRT's defaults are 1 for strides and
// dilations, 0 for padding).
func spread(d dsl.Dims, r int, def int64) []int64 {
	out := make([]int64, r)
	for i := range out {
		out[i] = def
	}
	copy(out, d)
	return out
}

func inputs(l dsl.Layer) []*dsl.Tensor {
	out := make([]*dsl.Tensor, l.NbInputs())
	for i := range out {
		out[i] = l.Input(i)
	}
	return out
}

// loop returns the ILoop of a loop boundary layer, creating it the first
// time one of its layers is lowered.
func (lw *lowerer) loop(l interface{ Loop() *dsl.Loop }) unsafe.Pointer {
	lp := l.Loop()
	if p, ok := lw.loops[lp]; ok {
		return p
	}
	p := C.trtc_add_loop(lw.net, lw.cstr(lp.Name()))
	lw.loops[lp] = p
	return p
}

func (lw *lowerer) cond(l interface{ Conditional() *dsl.IfConditional }) unsafe.Pointer {
	c := l.Conditional()
	if p, ok := lw.conds[c]; ok {
		return p
	}
	p := C.trtc_add_if(lw.net, lw.cstr(c.Name()))
	lw.conds[c] = p
	return p
}
