// Package dsltest holds small networks that together use every layer kind
// of the DSL, each with non-default parameters: the round trip of the
// network encoding and the CUDA target's every-layer test run them.
package dsltest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// ScalePlugin multiplies its input by beta (a float32 attribute) and
// carries attributes of every type the encoding holds, so that a round trip
// through NewPlugin shows they come back with their Go types.
type ScalePlugin struct {
	attrs map[string]any
}

func NewScalePlugin(beta float32) *ScalePlugin {
	w, _ := tensor.FromFloat32([]int64{2}, []float32{1.5, -2})
	return &ScalePlugin{attrs: map[string]any{
		"beta": beta, "b": true, "i": 7, "i32": int32(-3), "i64": int64(1) << 40, "f64": math.Pi,
		"s": "hello", "ints": []int{1, -2}, "i32s": []int32{3}, "i64s": []int64{-4, 5}, "f32s": []float32{0.5},
		"f64s": []float64{}, "ss": []string{"a", ""}, "raw": []byte{0, 255}, "w": w, "nilints": []int64(nil),
	}}
}

func (p *ScalePlugin) PluginName() string         { return "EncScale" }
func (p *ScalePlugin) PluginVersion() string      { return "1" }
func (p *ScalePlugin) PluginNamespace() string    { return "trtc.test" }
func (p *ScalePlugin) Attributes() map[string]any { return p.attrs }
func (p *ScalePlugin) NbOutputs() int             { return 1 }
func (p *ScalePlugin) OutputTypes(in []dsl.DataType) ([]dsl.DataType, error) {
	if len(in) != 1 || in[0] != dsl.Float32 {
		return nil, fmt.Errorf("want one Float32 input, got %v", in)
	}
	return []dsl.DataType{dsl.Float32}, nil
}
func (p *ScalePlugin) OutputDims(in []dsl.Dims) ([]dsl.Dims, error) {
	return []dsl.Dims{in[0].Clone()}, nil
}
func (p *ScalePlugin) ExecuteCPU(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	beta := p.attrs["beta"].(float32)
	x := in[0].Float32s()
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = beta * v
	}
	out, err := tensor.FromFloat32(in[0].Shape(), y)
	return []*tensor.Tensor{out}, err
}

// NewPlugin is a DecodeOptions.NewPlugin that knows ScalePlugin: what a
// caller wires to the plugins registry.
func NewPlugin(name, version, namespace string, attrs map[string]any) (dsl.Plugin, error) {
	if name != "EncScale" || version != "1" || namespace != "trtc.test" {
		return nil, fmt.Errorf("no plugin %s/%s/%s", name, version, namespace)
	}
	want := NewScalePlugin(0).attrs
	for k, v := range want {
		if fmt.Sprintf("%T", attrs[k]) != fmt.Sprintf("%T", v) {
			return nil, fmt.Errorf("attribute %q came back as %T, want %T", k, attrs[k], v)
		}
	}
	if _, ok := attrs["beta"].(float32); !ok {
		return nil, fmt.Errorf("attribute beta is %T", attrs["beta"])
	}
	return &ScalePlugin{attrs: attrs}, nil
}

// A Builder makes a small network that exercises some layer kinds with
// non-default parameters. Its inputs are Float32 or Bool (index tensors
// are constants), so random inputs are always valid.
type Builder func(rng *rand.Rand) *dsl.Network

func encWeights(rng *rand.Rand, n int) dsl.Weights {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.Float64()*2 - 1)
	}
	return dsl.Float32Weights(v...)
}

func encF32(net *dsl.Network, rng *rand.Rand, dims ...int64) *dsl.Tensor {
	return net.AddConstant(dims, encWeights(rng, int(tensor.Volume(dims)))).Output(0)
}

func encI64(net *dsl.Network, dims dsl.Dims, v ...int64) *dsl.Tensor {
	return net.AddConstant(dims, dsl.Int64Weights(v...)).Output(0)
}

func encI32(net *dsl.Network, dims dsl.Dims, v ...int32) *dsl.Tensor {
	return net.AddConstant(dims, dsl.Int32Weights(v...)).Output(0)
}

func outs(net *dsl.Network, ls ...dsl.Layer) {
	for _, l := range ls {
		for i := 0; i < l.NbOutputs(); i++ {
			net.MarkOutput(l.Output(i))
		}
	}
}

// Networks returns the builders by name; together their networks hold
// every layer kind of the DSL (dsl's round-trip test checks that).
func Networks() map[string]Builder { return networks }

var networks = map[string]Builder{
	"conv": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		n.SetName("conv net")
		x := n.AddInput("x", dsl.Float32, dsl.Dims{1, 2, 5, 5})
		c := n.AddConvolutionNd(x, 3, dsl.Dims{3, 3}, encWeights(rng, 3*2*9), encWeights(rng, 3))
		c.SetName("conv1")
		c.SetStrideNd(dsl.Dims{2, 1})
		c.SetPaddingNd(dsl.Dims{1, 1})
		c.SetDilationNd(dsl.Dims{1, 2})
		g := n.AddConvolutionNd(x, 4, dsl.Dims{1, 1}, encWeights(rng, 4), dsl.Weights{})
		g.SetNbGroups(2)
		g.SetPaddingMode(dsl.PaddingSameUpper)
		d := n.AddDeconvolutionNd(c.Output(0), 2, dsl.Dims{2, 2}, encWeights(rng, 3*2*4), encWeights(rng, 2))
		d.SetStrideNd(dsl.Dims{2, 2})
		d.SetPrePadding(dsl.Dims{1, 0})
		a := n.AddActivation(d.Output(0), dsl.ActivationLeakyReLU)
		a.SetAlpha(0.2)
		a.Output(0).SetName("y")
		outs(n, a, g)
		return n
	},
	"pool": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dsl.Float32, dsl.Dims{1, 2, 5, 5})
		p := n.AddPoolingNd(x, dsl.PoolingAverage, dsl.Dims{3, 3})
		p.SetStrideNd(dsl.Dims{2, 2})
		p.SetPaddingNd(dsl.Dims{1, 1})
		p.SetAverageCountExcludesPadding(false)
		b := n.AddPoolingNd(x, dsl.PoolingMaxAverageBlend, dsl.Dims{2, 2})
		b.SetBlendFactor(0.3)
		l := n.AddLRN(x, 3, 1e-2, 0.75, 1.5)
		s := n.AddScale(x, dsl.ScaleChannel, encWeights(rng, 2), encWeights(rng, 2), dsl.Weights{})
		s2 := n.AddScaleNd(x, dsl.ScaleUniform, dsl.Float32Weights(0.5), dsl.Weights{}, dsl.Float32Weights(2), 1)
		pad := n.AddPaddingNd(x, dsl.Dims{1, 0}, dsl.Dims{0, 2})
		outs(n, p, b, l, s, s2, pad)
		return n
	},
	"pointwise": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
		y := n.AddInput("y", dsl.Float32, dsl.Dims{2, 3})
		clip := n.AddActivation(x, dsl.ActivationClip)
		clip.SetAlpha(-0.5)
		clip.SetBeta(0.25)
		gt := n.AddElementWise(x, y, dsl.ElementWiseGreater)
		outs(n, clip,
			n.AddCast(x, dsl.Float16), n.AddCast(x, dsl.Int32),
			n.AddUnary(x, dsl.UnaryExp), n.AddUnary(y, dsl.UnaryAbs),
			n.AddElementWise(x, y, dsl.ElementWiseProd), gt,
			n.AddSelect(gt.Output(0), x, y),
			n.AddParametricReLU(x, encF32(n, rng, 1, 3)),
			n.AddIdentity(y),
			n.AddElementWise(x, encF32(n, rng, 2, 3), dsl.ElementWiseMax),
		)
		return n
	},
	"datamove": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3, 4})
		y := n.AddInput("y", dsl.Float32, dsl.Dims{2, 3, 4})
		cat := n.AddConcatenation([]*dsl.Tensor{x, y, x})
		cat.SetAxis(1)
		sh := n.AddShuffle(x)
		sh.SetFirstTranspose(dsl.Permutation{2, 0, 1})
		sh.SetReshapeDimensions(dsl.Dims{4, -1})
		sh.SetSecondTranspose(dsl.Permutation{1, 0})
		sh2 := n.AddShuffle(y)
		sh2.SetReshapeDimensions(dsl.Dims{0, -1})
		sl := n.AddSlice(x, dsl.Dims{0, 1, 0}, dsl.Dims{2, 2, 2}, dsl.Dims{1, 1, 2})
		wrap := n.AddSlice(y, dsl.Dims{1, 2, 3}, dsl.Dims{3, 4, 5}, dsl.Dims{1, 1, 1})
		wrap.SetMode(dsl.SampleWrap)
		g := n.AddGather(x, encI64(n, dsl.Dims{2}, 1, 0), 0)
		ge := n.AddGatherV2(x, encI64(n, dsl.Dims{2, 3, 1}, 3, 0, 1, 2, 2, 0), dsl.GatherElement)
		ge.SetGatherAxis(2)
		sq := n.AddSqueeze(n.AddSlice(x, dsl.Dims{0, 0, 0}, dsl.Dims{2, 1, 4}, dsl.Dims{1, 1, 1}).Output(0), encI64(n, dsl.Dims{1}, 1))
		un := n.AddUnsqueeze(y, encI64(n, dsl.Dims{1}, 0))
		outs(n, cat, sh, sh2, sl, wrap, g, ge, sq, un, n.AddShape(x))
		return n
	},
	"reduce": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3, 4})
		sm := n.AddSoftMax(x)
		sm.SetAxes(1 << 1)
		tk := n.AddTopK(n.AddShuffle(x).Output(0), dsl.TopKMin, 2, 0b100)
		tk.SetIndicesType(dsl.Int64)
		cu := n.AddCumulative(x, encI64(n, dsl.Dims{}, 2), dsl.CumulativeSum, true, true)
		norm := n.AddNormalization(x, encF32(n, rng, 1, 1, 4), encF32(n, rng, 1, 1, 4), 0b100)
		norm.SetEpsilon(1e-3)
		gn := n.AddNormalizationV2(x, encF32(n, rng, 1, 3, 1), encF32(n, rng, 1, 3, 1), 0b100)
		gn.SetNbGroups(3)
		outs(n, sm, tk, cu, norm, gn,
			n.AddReduce(x, dsl.ReduceSum, 0b110, true), n.AddReduce(x, dsl.ReduceMax, 1, false),
			n.AddRaggedSoftMax(x, encI32(n, dsl.Dims{2, 3, 1}, 1, 4, 2, 3, 4, 1)))
		return n
	},
	"linalg": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		a := n.AddInput("a", dsl.Float32, dsl.Dims{2, 3})
		b := n.AddInput("b", dsl.Float32, dsl.Dims{4, 3})
		mm := n.AddMatrixMultiply(a, dsl.MatrixOpNone, b, dsl.MatrixOpTranspose)
		mv := n.AddMatrixMultiply(b, dsl.MatrixOpNone, encF32(n, rng, 3), dsl.MatrixOpVector)
		es := n.AddEinsum([]*dsl.Tensor{a, b}, "ij,kj->ik")
		outs(n, mm, mv, es)
		return n
	},
	"resize": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dsl.Float32, dsl.Dims{1, 1, 3, 3})
		g := n.AddInput("grid", dsl.Float32, dsl.Dims{1, 2, 2, 2})
		r := n.AddResize(x)
		r.SetScales([]float32{1, 1, 2, 1.5})
		r.SetResizeMode(dsl.InterpolationLinear)
		r.SetCoordinateTransformation(dsl.ResizeHalfPixel)
		r2 := n.AddResize(x)
		r2.SetOutputDimensions(dsl.Dims{1, 1, 5, 4})
		r2.SetNearestRounding(dsl.ResizeRoundFloor)
		r3 := n.AddResize(x)
		r3.SetOutputDimensions(dsl.Dims{1, 1, 4, 4})
		r3.SetResizeMode(dsl.InterpolationCubic)
		r3.SetCubicCoeff(-0.5)
		r3.SetExcludeOutside(true)
		gs := n.AddGridSample(x, g)
		gs.SetInterpolationMode(dsl.InterpolationLinear)
		gs.SetAlignCorners(true)
		gs.SetSampleMode(dsl.SampleClamp)
		outs(n, r, r2, r3, gs)
		return n
	},
	"generate": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dsl.Float32, dsl.Dims{5})
		v := n.AddInput("v", dsl.Float32, dsl.Dims{2})
		f := n.AddFill(dsl.Dims{5}, dsl.FillLinspace, dsl.Float32)
		f.SetAlpha(0.5)
		f.SetBeta(0.25)
		oh := n.AddOneHot(encI32(n, dsl.Dims{3}, 0, 2, 1), v, encI64(n, dsl.Dims{}, 3), -1)
		nz := n.AddNonZero(n.AddElementWise(x, f.Output(0), dsl.ElementWiseGreater).Output(0))
		nz.SetIndicesType(dsl.Int32)
		ok := n.AddUnary(n.AddUnary(x, dsl.UnaryIsNaN).Output(0), dsl.UnaryNot)
		n.AddAssertion(ok.Output(0), "x must not be NaN")
		outs(n, n.AddElementWise(x, f.Output(0), dsl.ElementWiseSum), oh, nz)
		return n
	},
	"quant": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 32})
		q := n.AddQuantize(x, n.AddConstant(dsl.Dims{}, dsl.Float32Weights(0.05)).Output(0), dsl.Int8)
		dq := n.AddDequantize(q.Output(0), n.AddConstant(dsl.Dims{}, dsl.Float32Weights(0.05)).Output(0), dsl.Float32)
		qc := n.AddQuantize(x, n.AddConstant(dsl.Dims{2}, dsl.Float32Weights(0.01, 0.02)).Output(0), dsl.Int8)
		qc.SetAxis(0)
		dyn := n.AddDynamicQuantize(x, -1, 16, dsl.Int8, dsl.Float32)
		outs(n, dq, qc, dyn)
		return n
	},
	"scatter": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		d := n.AddInput("d", dsl.Float32, dsl.Dims{3, 3})
		u := n.AddInput("u", dsl.Float32, dsl.Dims{2, 3})
		s := n.AddScatter(d, encI64(n, dsl.Dims{2, 3}, 1, 0, 2, 0, 2, 1), u, dsl.ScatterElement)
		s.SetAxis(0)
		rs := n.AddReverseSequence(d, encI32(n, dsl.Dims{3}, 1, 3, 2))
		rs.SetBatchAxis(0)
		rs.SetSequenceAxis(1)
		outs(n, s, rs)
		return n
	},
	"nms": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		sc := n.AddInput("scores", dsl.Float32, dsl.Dims{1, 4, 1})
		boxes := n.AddConstant(dsl.Dims{1, 4, 4}, dsl.Float32Weights(0, 0, 1, 1, 0, 0, 1, 0.9, 2, 2, 3, 3, 0.1, 0, 1.1, 1)).Output(0)
		nms := n.AddNMS(boxes, n.AddUnary(sc, dsl.UnaryAbs).Output(0), encI32(n, dsl.Dims{}, 2), dsl.Int64)
		nms.SetTopKBoxLimit(3)
		nms.SetBoundingBoxFormat(dsl.BoxCornerPairs)
		outs(n, nms)
		return n
	},
	"transformer": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		q := n.AddInput("q", dsl.Float32, dsl.Dims{1, 2, 3, 4})
		k := n.AddInput("k", dsl.Float32, dsl.Dims{1, 2, 3, 4})
		v := n.AddInput("v", dsl.Float32, dsl.Dims{1, 2, 3, 4})
		cs := n.AddInput("cos", dsl.Float32, dsl.Dims{1, 3, 2})
		sn := n.AddInput("sin", dsl.Float32, dsl.Dims{1, 3, 2})
		rq := n.AddRotaryEmbedding(q, cs, sn, true, 0)
		at := n.AddAttention(rq.Output(0), k, v, dsl.AttentionNormSoftmax, true)
		kv := n.AddKVCacheUpdate(encF32(n, rng, 1, 2, 5, 4), k, encI32(n, dsl.Dims{1}, 1), dsl.KVCacheModeLinear)
		outs(n, at, kv)
		return n
	},
	"plugin": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
		p := n.AddPluginV3([]*dsl.Tensor{x}, nil, NewScalePlugin(1.5))
		p.SetName("scale by 1.5")
		outs(n, p)
		return n
	},
	"loop": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		init := n.AddInput("init", dsl.Float32, dsl.Dims{2})
		seq := n.AddInput("seq", dsl.Float32, dsl.Dims{3, 2})
		cnt := encI32(n, dsl.Dims{}, 3)
		lp := n.AddLoop()
		lp.SetName("accumulate")
		lp.AddTripLimit(cnt, dsl.TripLimitCount)
		rec := lp.AddRecurrence(init)
		it := lp.AddIterator(seq, 0, true)
		sum := n.AddElementWise(rec.Output(0), it.Output(0), dsl.ElementWiseSum)
		rec.SetInput(1, sum.Output(0))
		last := lp.AddLoopOutput(rec.Output(0), dsl.LoopOutputLastValue, 0)
		all := lp.AddLoopOutput(sum.Output(0), dsl.LoopOutputConcatenate, 1)
		all.SetInput(1, cnt)
		outs(n, last, all)
		return n
	},
	"if": func(rng *rand.Rand) *dsl.Network {
		n := dsl.NewNetwork()
		x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
		y := n.AddInput("y", dsl.Float32, dsl.Dims{2, 3})
		c := n.AddElementWise(n.AddReduce(x, dsl.ReduceSum, 0b11, false).Output(0), n.AddConstant(dsl.Dims{}, dsl.Float32Weights(0)).Output(0), dsl.ElementWiseGreater)
		ic := n.AddIfConditional()
		ic.SetName("sign")
		ic.SetCondition(c.Output(0))
		xi := ic.AddInput(x).Output(0)
		tr := n.AddElementWise(n.AddActivation(xi, dsl.ActivationReLU).Output(0), y, dsl.ElementWiseProd).Output(0)
		fa := n.AddElementWise(xi, y, dsl.ElementWiseSub).Output(0)
		outs(n, ic.AddOutput(tr, fa))
		return n
	},
	"loop with if": func(rng *rand.Rand) *dsl.Network {
		// A loop whose recurrence's next value is produced by a
		// conditional nested in it, added after the recurrence.
		n := dsl.NewNetwork()
		v := n.AddInput("v", dsl.Float32, dsl.Dims{7})
		zero := n.AddConstant(dsl.Dims{}, dsl.Float32Weights(0)).Output(0)
		lp := n.AddLoop()
		lp.AddTripLimit(encI32(n, dsl.Dims{}, 7), dsl.TripLimitCount)
		acc := lp.AddRecurrence(zero)
		e := lp.AddIterator(v, 0, false).Output(0)
		ic := n.AddIfConditional()
		ic.SetCondition(n.AddElementWise(e, zero, dsl.ElementWiseGreater).Output(0))
		a := ic.AddInput(acc.Output(0)).Output(0)
		x := ic.AddInput(e).Output(0)
		sum := n.AddElementWise(a, x, dsl.ElementWiseSum).Output(0)
		diff := n.AddElementWise(a, x, dsl.ElementWiseSub).Output(0)
		acc.SetInput(1, ic.AddOutput(sum, diff).Output(0))
		outs(n, lp.AddLoopOutput(acc.Output(0), dsl.LoopOutputLastValue, 0))
		return n
	},
	"forward ref": func(rng *rand.Rand) *dsl.Network {
		// SetInput with a tensor of a later layer: TopoLayers differs from
		// add order.
		n := dsl.NewNetwork()
		x := n.AddInput("x", dsl.Float32, dsl.Dims{2, 3})
		first := n.AddUnary(x, dsl.UnaryNeg)
		later := n.AddUnary(x, dsl.UnaryExp)
		first.SetInput(0, later.Output(0))
		outs(n, first)
		return n
	},
}
