package dsl_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// encScalePlugin multiplies its input by beta (a float32 attribute) and
// carries attributes of every type the encoding holds, so that a round trip
// through NewPlugin shows they come back with their Go types.
type encScalePlugin struct {
	attrs map[string]any
}

func newEncScalePlugin(beta float32) *encScalePlugin {
	w, _ := tensor.FromFloat32([]int64{2}, []float32{1.5, -2})
	return &encScalePlugin{attrs: map[string]any{
		"beta": beta, "b": true, "i": 7, "i32": int32(-3), "i64": int64(1) << 40, "f64": math.Pi,
		"s": "hello", "ints": []int{1, -2}, "i32s": []int32{3}, "i64s": []int64{-4, 5}, "f32s": []float32{0.5},
		"f64s": []float64{}, "ss": []string{"a", ""}, "raw": []byte{0, 255}, "w": w, "nilints": []int64(nil),
	}}
}

func (p *encScalePlugin) PluginName() string         { return "EncScale" }
func (p *encScalePlugin) PluginVersion() string      { return "1" }
func (p *encScalePlugin) PluginNamespace() string    { return "trtc.test" }
func (p *encScalePlugin) Attributes() map[string]any { return p.attrs }
func (p *encScalePlugin) NbOutputs() int             { return 1 }
func (p *encScalePlugin) OutputTypes(in []dsl.DataType) ([]dsl.DataType, error) {
	if len(in) != 1 || in[0] != dsl.Float32 {
		return nil, fmt.Errorf("want one Float32 input, got %v", in)
	}
	return []dsl.DataType{dsl.Float32}, nil
}
func (p *encScalePlugin) OutputDims(in []dsl.Dims) ([]dsl.Dims, error) {
	return []dsl.Dims{in[0].Clone()}, nil
}
func (p *encScalePlugin) ExecuteCPU(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	beta := p.attrs["beta"].(float32)
	x := in[0].Float32s()
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = beta * v
	}
	out, err := tensor.FromFloat32(in[0].Shape(), y)
	return []*tensor.Tensor{out}, err
}

// newEncPlugin is the DecodeOptions.NewPlugin of the tests: what a caller
// wires to the plugins registry.
func newEncPlugin(name, version, namespace string, attrs map[string]any) (dsl.Plugin, error) {
	if name != "EncScale" || version != "1" || namespace != "trtc.test" {
		return nil, fmt.Errorf("no plugin %s/%s/%s", name, version, namespace)
	}
	want := newEncScalePlugin(0).attrs
	for k, v := range want {
		if fmt.Sprintf("%T", attrs[k]) != fmt.Sprintf("%T", v) {
			return nil, fmt.Errorf("attribute %q came back as %T, want %T", k, attrs[k], v)
		}
	}
	if _, ok := attrs["beta"].(float32); !ok {
		return nil, fmt.Errorf("attribute beta is %T", attrs["beta"])
	}
	return &encScalePlugin{attrs: attrs}, nil
}

// A builder makes a small network that exercises some layer kinds with
// non-default parameters. Its inputs are Float32 or Bool (index tensors
// are constants), so random inputs are always valid.
type builder func(rng *rand.Rand) *dsl.Network

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

var encBuilders = map[string]builder{
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
		p := n.AddPluginV3([]*dsl.Tensor{x}, nil, newEncScalePlugin(1.5))
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

var decOpts = dsl.DecodeOptions{NewPlugin: newEncPlugin}

func mustEncode(t testing.TB, net *dsl.Network, opt dsl.EncodeOptions) []byte {
	t.Helper()
	b, err := dsl.EncodeNetwork(net, opt)
	if err != nil {
		t.Fatalf("EncodeNetwork: %v", err)
	}
	return b
}

// randInputs returns a value for every network input: Float32 uniform in
// [-1, 1) and never zero, Bool at random.
func randInputs(t testing.TB, rng *rand.Rand, net *dsl.Network) map[string]*tensor.Tensor {
	t.Helper()
	in := map[string]*tensor.Tensor{}
	for _, x := range net.Inputs() {
		n := x.Dims().Volume()
		vals := make([]float64, n)
		for i := range vals {
			for vals[i] == 0 {
				vals[i] = rng.Float64()*2 - 1
			}
			if x.Type() == dsl.Bool {
				vals[i] = float64(rng.IntN(2))
			}
		}
		v, err := tensor.FromFloat64s(x.Type(), x.Dims(), vals)
		if err != nil {
			t.Fatal(err)
		}
		in[x.Name()] = v
	}
	return in
}

func sameOutputs(t *testing.T, want, got map[string]*tensor.Tensor) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("output %q missing", name)
		case g.DType() != w.DType() || !slices.Equal(g.Shape(), w.Shape()) || !bytes.Equal(g.Bytes(), w.Bytes()):
			t.Errorf("output %q: %v %v differs from the original's %v %v", name, g.DType(), g.Shape(), w.DType(), w.Shape())
		}
	}
}

func describe(net *dsl.Network) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", net.Name())
	for _, x := range net.Inputs() {
		fmt.Fprintf(&b, "in %v\n", x)
	}
	for _, l := range net.TopoLayers() {
		fmt.Fprintf(&b, "%v %q @%s in:", l.Type(), l.Name(), l.Location())
		for i := 0; i < l.NbInputs(); i++ {
			if x := l.Input(i); x != nil {
				fmt.Fprintf(&b, " %s", x.Name())
			} else {
				b.WriteString(" -")
			}
		}
		b.WriteString(" out:")
		for i := 0; i < l.NbOutputs(); i++ {
			fmt.Fprintf(&b, " %v", l.Output(i))
		}
		b.WriteString("\n")
	}
	for _, x := range net.Outputs() {
		fmt.Fprintf(&b, "out %v\n", x)
	}
	for _, r := range net.Regions() {
		fmt.Fprintf(&b, "region %q boundary %d body %d\n", r.Name(), len(r.Boundary), len(r.Body))
	}
	return b.String()
}

// TestEncodeRoundTrip encodes each builder's network, decodes it and
// checks that the decoded network is the same (same description, and the
// same bytes when encoded again) and computes the same outputs bit for bit.
func TestEncodeRoundTrip(t *testing.T) {
	covered := map[dsl.LayerType]bool{}
	names := make([]string, 0, len(encBuilders))
	for name := range encBuilders {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			net := encBuilders[name](rng)
			if err := net.Err(); err != nil {
				t.Fatalf("builder: %v", err)
			}
			for _, l := range net.Layers() {
				covered[l.Type()] = true
			}
			for _, opt := range []struct {
				name string
				enc  dsl.EncodeOptions
				dec  dsl.DecodeOptions
			}{{"embedded", dsl.EncodeOptions{}, decOpts}, externalWeights(t)} {
				b := mustEncode(t, net, opt.enc)
				got, err := dsl.DecodeNetwork(b, opt.dec)
				if err != nil {
					t.Fatalf("%s: DecodeNetwork: %v", opt.name, err)
				}
				if d, w := describe(got), describe(net); d != w {
					t.Errorf("%s: decoded network\n%s\nwant\n%s", opt.name, d, w)
				}
				if b2 := mustEncode(t, got, opt.enc); !bytes.Equal(b, b2) {
					t.Errorf("%s: re-encoding gives other bytes (%d vs %d)", opt.name, len(b2), len(b))
				}
				in := randInputs(t, rng, net)
				want, err := cpu.Run(net, in)
				if err != nil {
					t.Fatalf("running the original: %v", err)
				}
				have, err := cpu.Run(got, in)
				if err != nil {
					t.Fatalf("%s: running the decoded network: %v", opt.name, err)
				}
				sameOutputs(t, want, have)
			}
		})
	}
	for _, k := range dsl.AllLayerTypes() {
		if !covered[k] {
			t.Errorf("no round-trip network has a %v layer", k)
		}
	}
}

// externalWeights stores weights in a map, checking each tensor is put once.
func externalWeights(t *testing.T) struct {
	name string
	enc  dsl.EncodeOptions
	dec  dsl.DecodeOptions
} {
	store := map[uint64]*tensor.Tensor{}
	ids := map[*tensor.Tensor]uint64{}
	enc := dsl.EncodeOptions{PutWeights: func(w *tensor.Tensor) (uint64, error) {
		// The decoded network shares the stored tensors, so encoding it
		// again puts the same tensors and gets the same ids.
		if id, ok := ids[w]; ok {
			return id, nil
		}
		id := uint64(len(store))*3 + 1
		store[id], ids[w] = w, id
		return id, nil
	}}
	dec := decOpts
	dec.GetWeights = func(id uint64) (*tensor.Tensor, error) {
		w, ok := store[id]
		if !ok {
			return nil, fmt.Errorf("no weights %d", id)
		}
		return w, nil
	}
	return struct {
		name string
		enc  dsl.EncodeOptions
		dec  dsl.DecodeOptions
	}{"external", enc, dec}
}

// TestEncodeSharedWeights checks that weights shared by two layers are
// stored once and shared again after decoding, and that PutWeights is
// called once for them.
func TestEncodeSharedWeights(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2})
	w := dsl.Float32Weights(1, 2)
	a := n.AddElementWise(x, n.AddConstant(dsl.Dims{2}, w).Output(0), dsl.ElementWiseSum)
	b := n.AddElementWise(a.Output(0), n.AddConstant(dsl.Dims{2}, w).Output(0), dsl.ElementWiseSum)
	n.MarkOutput(b.Output(0))
	calls := 0
	enc, err := dsl.EncodeNetwork(n, dsl.EncodeOptions{PutWeights: func(*tensor.Tensor) (uint64, error) { calls++; return 42, nil }})
	if err != nil || calls != 1 {
		t.Fatalf("PutWeights called %d times (err %v), want once", calls, err)
	}
	if _, err := dsl.DecodeNetwork(enc, dsl.DecodeOptions{}); err == nil || !strings.Contains(err.Error(), "GetWeights is nil") {
		t.Errorf("decoding external weights without GetWeights: %v", err)
	}
	wrong, _ := tensor.FromFloat32([]int64{3}, []float32{1, 2, 3})
	if _, err := dsl.DecodeNetwork(enc, dsl.DecodeOptions{GetWeights: func(uint64) (*tensor.Tensor, error) { return wrong, nil }}); !errors.Is(err, diag.EngineCorrupt) || !strings.Contains(err.Error(), "records float32 [2]") {
		t.Errorf("GetWeights with a tensor of another shape: %v", err)
	}
	emb := mustEncode(t, n, dsl.EncodeOptions{})
	if c := bytes.Count(emb, w.Tensor().Bytes()); c != 1 {
		t.Errorf("shared weights embedded %d times, want once", c)
	}
	got, err := dsl.DecodeNetwork(emb, dsl.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := got.Layer(0).(*dsl.ConstantLayer)
	c2, _ := got.Layer(2).(*dsl.ConstantLayer)
	if c1 == nil || c2 == nil || c1.Weights().Tensor() != c2.Weights().Tensor() {
		t.Errorf("decoded constants do not share their weights: %v %v", got.Layer(0), got.Layer(2))
	}
}

// TestDecodePluginNeedsNewPlugin: a plugin layer decodes only with
// NewPlugin, and the error without it names the plugin.
func TestDecodePluginNeedsNewPlugin(t *testing.T) {
	b := mustEncode(t, encBuilders["plugin"](rand.New(rand.NewPCG(1, 2))), dsl.EncodeOptions{})
	_, err := dsl.DecodeNetwork(b, dsl.DecodeOptions{})
	if err == nil || !strings.Contains(err.Error(), `plugin "EncScale" version "1" namespace "trtc.test"`) ||
		!strings.Contains(err.Error(), "NewPlugin is nil") || !strings.Contains(err.Error(), `"scale by 1.5" (layer 0)`) {
		t.Errorf("decoding a plugin layer without NewPlugin: %v", err)
	}
	_, err = dsl.DecodeNetwork(b, dsl.DecodeOptions{NewPlugin: func(string, string, string, map[string]any) (dsl.Plugin, error) {
		return nil, errors.New("not registered")
	}})
	if !errors.Is(err, diag.UnsupportedNode) || !strings.Contains(err.Error(), "not registered") || !strings.Contains(err.Error(), "EncScale") {
		t.Errorf("decoding with a NewPlugin that fails: %v", err)
	}
	if _, err := dsl.DecodeNetwork(b, decOpts); err != nil {
		t.Errorf("decoding with NewPlugin: %v", err)
	}
}

// TestEncodeRefusals: networks with errors, nil networks and plugin
// attributes the encoding cannot hold.
func TestEncodeRefusals(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2})
	n.MarkOutput(n.AddConcatenation([]*dsl.Tensor{x, n.AddInput("y", dsl.Float32, dsl.Dims{2, 2})}).Output(0))
	if _, err := dsl.EncodeNetwork(n, dsl.EncodeOptions{}); err == nil || err.Error() != n.Err().Error() {
		t.Errorf("encoding an invalid network: %v, want its Err %v", err, n.Err())
	}
	if _, err := dsl.EncodeNetwork(nil, dsl.EncodeOptions{}); !errors.Is(err, diag.InvalidArgument) {
		t.Errorf("encoding nil: %v", err)
	}
	p := newEncScalePlugin(1)
	p.attrs["odd"] = struct{}{}
	n = dsl.NewNetwork()
	n.MarkOutput(n.AddPluginV3([]*dsl.Tensor{n.AddInput("x", dsl.Float32, dsl.Dims{2})}, nil, p).Output(0))
	if _, err := dsl.EncodeNetwork(n, dsl.EncodeOptions{}); !errors.Is(err, diag.UnsupportedAttr) || !strings.Contains(err.Error(), `attribute "odd" has Go type struct {}`) {
		t.Errorf("encoding a plugin with an odd attribute: %v", err)
	}
	n = dsl.NewNetwork()
	n.MarkOutput(n.AddConstant(dsl.Dims{1}, dsl.Float32Weights(1)).Output(0))
	if _, err := dsl.EncodeNetwork(n, dsl.EncodeOptions{PutWeights: func(*tensor.Tensor) (uint64, error) { return 0, errors.New("disk full") }}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("PutWeights failing: %v", err)
	}
}

func smallEncoding(t testing.TB) []byte {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{1, 1, 2, 2})
	c := n.AddConvolutionNd(x, 1, dsl.Dims{1, 1}, dsl.Float32Weights(2), dsl.Weights{})
	c.SetName("c")
	n.MarkOutput(n.AddActivation(c.Output(0), dsl.ActivationReLU).Output(0))
	return mustEncode(t, n, dsl.EncodeOptions{})
}

// TestDecodeTruncated: every prefix of an encoding is an error, never a
// panic, and an extra byte at the end is one too.
func TestDecodeTruncated(t *testing.T) {
	for _, b := range [][]byte{smallEncoding(t), mustEncode(t, encBuilders["loop with if"](rand.New(rand.NewPCG(3, 4))), dsl.EncodeOptions{}),
		mustEncode(t, encBuilders["plugin"](rand.New(rand.NewPCG(3, 4))), dsl.EncodeOptions{})} {
		for n := 0; n < len(b); n++ {
			_, err := dsl.DecodeNetwork(b[:n], decOpts)
			var de *diag.Error
			if !errors.As(err, &de) || de.Code != diag.EngineCorrupt {
				t.Fatalf("decoding %d of %d bytes: %v, want an EngineCorrupt error", n, len(b), err)
			}
		}
		if _, err := dsl.DecodeNetwork(append(slices.Clip(b), 0), decOpts); err == nil || !strings.Contains(err.Error(), "1 bytes after the end") {
			t.Errorf("decoding with a trailing byte: %v", err)
		}
	}
}

// TestDecodeBitFlips: flipping any bit of an encoding gives an error or a
// valid network, never a panic or an internal error.
func TestDecodeBitFlips(t *testing.T) {
	b := smallEncoding(t)
	for i := range b {
		for bit := 0; bit < 8; bit++ {
			c := slices.Clone(b)
			c[i] ^= 1 << bit
			if _, err := dsl.DecodeNetwork(c, decOpts); errors.Is(err, diag.Internal) {
				t.Errorf("flipping bit %d of byte %d: %v", bit, i, err)
			}
		}
	}
}

// encBytes writes encodings by hand for the error message tests.
type encBytes []byte

func (e encBytes) u(v uint64) encBytes { return binary.AppendUvarint(e, v) }
func (e encBytes) v(v int64) encBytes  { return binary.AppendVarint(e, v) }
func (e encBytes) s(s string) encBytes { return append(e.u(uint64(len(s))), s...) }

// header is the magic, versions and network name, no regions, no weights
// and one Float32 input x of dims [2].
func header() encBytes {
	e := encBytes("trtcnet\x00").u(1).s(dsl.EncodingVersion()).s("hand made")
	e = e.u(0).u(0)
	return e.u(1).s("x").v(int64(dsl.Float32)).u(1).v(2)
}

// TestDecodeMessages checks that errors say what is wrong and where.
func TestDecodeMessages(t *testing.T) {
	relu := func(e encBytes) encBytes {
		e = e.u(uint64(dsl.LayerActivation)).s("r").s("here.go:1").u(1).u(1).u(1).u(1).u(1).s("r_out").u(3)
		return e.s("act").v(int64(dsl.ActivationReLU)).s("alpha").u(0).u(0).u(0).u(0).s("beta").u(0).u(0).u(0).u(0)
	}
	valid := relu(header().u(1)).u(1).u(2)
	if net, err := dsl.DecodeNetwork(valid, dsl.DecodeOptions{}); err != nil {
		t.Fatalf("the hand-made encoding does not decode: %v", err)
	} else if net.Name() != "hand made" || net.NbLayers() != 1 || net.Layer(0).Location() != "here.go:1" || net.Output(0).Name() != "r_out" {
		t.Fatalf("the hand-made encoding decodes to\n%s", describe(net))
	}
	cases := []struct {
		name string
		b    []byte
		code diag.Code
		want string
	}{
		{"empty", nil, diag.EngineCorrupt, "header: not a trtc network encoding"},
		{"format", encBytes("trtcnet\x00").u(9), diag.EngineIncompatible, "format 9; this build of trtc reads format 1"},
		{"version", encBytes("trtcnet\x00").u(1).s("1-00"), diag.EngineIncompatible, "encoded under encoding version 1-00; this build of trtc has " + dsl.EncodingVersion()},
		{"kind", append(header().u(1).u(99), make([]byte, 8)...), diag.EngineCorrupt, "layer 0: unknown layer kind 99"},
		{"input ref", header().u(1).u(uint64(dsl.LayerActivation)).s("r").s("").u(1).u(1).u(1).u(5), diag.EngineCorrupt,
			`Activation "r" (layer 0): input 0 refers to tensor 4, which is not produced before the layer (1 tensors so far)`},
		{"input count", header().u(1).u(uint64(dsl.LayerActivation)).s("r").s("").u(1).u(1).u(0), diag.EngineCorrupt,
			"0 inputs; want 1 to 1"},
		{"output count", header().u(1).u(uint64(dsl.LayerActivation)).s("r").s("").u(1).u(1).u(1).u(1).u(2).s("a").s("b"), diag.EngineCorrupt,
			"2 outputs; Activation layers have 1"},
		{"field", header().u(1).u(uint64(dsl.LayerActivation)).s("r").s("").u(1).u(1).u(1).u(1).u(1).s("o").u(3).s("kind"), diag.EngineIncompatible,
			`parameter field "kind" where this build has "act"`},
		{"region", header().u(1).u(uint64(dsl.LayerTripLimit)).s("t").s("").u(1).u(1).u(1).u(1).u(0).u(2).s("loopBoundary.loop").u(1), diag.EngineCorrupt,
			`TripLimit "t" (layer 0): field loopBoundary.loop: region 0 does not exist`},
		{"huge count", header().u(1 << 40), diag.EngineCorrupt, "layers: layer count is 1099511627776, but only 0 bytes are left"},
		{"output", relu(header().u(1)).u(1).u(3), diag.EngineCorrupt, "output 0: the output refers to tensor 2, which does not exist (the network has 2 tensors)"},
		{"invalid network", relu(header().u(1)).u(0), diag.EngineCorrupt, `the decoded network "hand made" is not valid: 1 error`},
		{"bool", header().u(1).u(uint64(dsl.LayerCumulative)).s("c").s("").u(2).u(2).u(2).u(1).u(1).u(1).s("o").u(3).s("op").v(0).s("exclusive").u(7), diag.EngineCorrupt,
			`Cumulative "c" (layer 0): field exclusive: bool byte is 7, want 0 or 1`},
	}
	for _, c := range cases {
		_, err := dsl.DecodeNetwork(c.b, dsl.DecodeOptions{})
		var de *diag.Error
		if !errors.As(err, &de) || de.Code != c.code || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant %v containing %q", c.name, err, c.code, c.want)
		}
	}
}

func TestEncodingVersion(t *testing.T) {
	v := dsl.EncodingVersion()
	if !strings.HasPrefix(v, "1-") || len(v) != 18 {
		t.Errorf("EncodingVersion() = %q", v)
	}
}

// TestDecodedLayersStayEditable: a decoded layer's setters update the
// decoded network (the spatial window's owner points at the new layer, and
// loops join their new region).
func TestDecodedLayersStayEditable(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	got, err := dsl.DecodeNetwork(mustEncode(t, encBuilders["conv"](rng), dsl.EncodeOptions{}), decOpts)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := got.Layer(0).(*dsl.ConvolutionLayer)
	if !ok || c.Name() != "conv1" {
		t.Fatalf("layer 0 is %v", dsl.LayerString(got.Layer(0)))
	}
	if d := c.Output(0).Dims(); !d.Equal(dsl.Dims{1, 3, 3, 3}) {
		t.Fatalf("conv1 output %v", d)
	}
	c.SetStrideNd(dsl.Dims{1, 1})
	if d := c.Output(0).Dims(); !d.Equal(dsl.Dims{1, 3, 5, 3}) {
		t.Errorf("after SetStrideNd(1, 1) conv1 output is %v, want 1x3x5x3", d)
	}
	lp, err := dsl.DecodeNetwork(mustEncode(t, encBuilders["loop"](rng), dsl.EncodeOptions{}), decOpts)
	if err != nil {
		t.Fatal(err)
	}
	loops := lp.Loops()
	if len(loops) != 1 || loops[0].Name() != "accumulate" || loops[0].Network() != lp || len(loops[0].BoundaryLayers()) != 5 {
		t.Fatalf("decoded loops: %v", loops)
	}
}
