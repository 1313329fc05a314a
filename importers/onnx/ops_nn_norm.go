package onnx

import (
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() {
	const types = "float32, float16, bfloat16"
	for _, since := range []int64{1, 6, 7, 9, 14, 15} {
		register(OpInfo{Op: "BatchNormalization", Since: since, Types: types,
			Restrictions: "the saved mean/variance outputs of opset < 14 training are not supported"}, importBatchNorm)
	}
	for _, since := range []int64{1, 6} {
		register(OpInfo{Op: "InstanceNormalization", Since: since, Types: types}, importInstanceNorm)
	}
	register(OpInfo{Op: "LayerNormalization", Since: 17, Types: types}, importLayerNorm)
	for _, since := range []int64{18, 21} {
		register(OpInfo{Op: "GroupNormalization", Since: since, Types: types,
			Restrictions: "input rank >= 3"}, importGroupNorm)
	}
	for _, since := range []int64{1, 13} {
		register(OpInfo{Op: "LRN", Since: since, Types: types,
			Restrictions: "outside the LRN layer's limits (odd size <= 15, beta in [0.01, 1e5], bias in [1e-5, 1e10]) it is composed and needs a static channel dim"}, importLRN)
	}
	for _, since := range []int64{9, 13} {
		register(OpInfo{Op: "MeanVarianceNormalization", Since: since, Types: types}, importMVN)
	}
	for _, since := range []int64{1, 22} {
		register(OpInfo{Op: "LpNormalization", Since: since, Types: types, Restrictions: "p is 1 or 2"}, importLpNorm)
	}
}

// nnPerChannel reshapes a 1-D per-channel tensor to [1, C, 1, ...] for an
// input of rank r.
func (c *nodeCtx) nnPerChannel(t *dsl.Tensor, r int) *dsl.Tensor {
	if t.Rank() != 1 {
		t = c.nnReshape(t, -1)
	}
	axes := []int64{0}
	for a := 2; a < r; a++ {
		axes = append(axes, int64(a))
	}
	return c.unsqueeze(t, axes...)
}

// importBatchNorm folds known statistics into a Scale layer
// (y = x*a + b per channel); otherwise it composes elementwise layers.
func importBatchNorm(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(5); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	if c.AttrInt("training_mode", 0) != 0 {
		return c.nnBatchNormTraining(x)
	}
	spatial := c.AttrInt("spatial", 1) != 0
	for i := 3; i < c.NbOutputs(); i++ {
		if c.HasOutput(i) {
			return nil, c.Errorf(diag.UnsupportedAttr, "output %d (saved mean/variance of training) is not supported", i)
		}
	}
	eps := float64(c.AttrFloat("epsilon", 1e-5))
	r := x.Rank()
	if r < 2 {
		return nil, c.Errorf(diag.ShapeMismatch, "BatchNormalization input has dims %v; want (N, C, ...)", x.Dims())
	}
	var params [4][]float64
	known := true
	for i := range params {
		v, ok := c.ConstFloats(i + 1)
		params[i], known = v, known && ok
	}
	outs := []*dsl.Tensor{nil}
	// In inference the running statistics pass through unchanged.
	if c.HasOutput(1) {
		outs = append(outs, c.Input(3))
	}
	if c.HasOutput(2) {
		for len(outs) < 2 {
			outs = append(outs, nil)
		}
		outs = append(outs, c.Input(4))
	}
	if known && spatial {
		n := len(params[0])
		for _, p := range params[1:] {
			if len(p) != n {
				return nil, c.Errorf(diag.ShapeMismatch, "scale, B, mean and var must have one value per channel; they have %d, %d, %d and %d", len(params[0]), len(params[1]), len(params[2]), len(params[3]))
			}
		}
		if ch := x.Dims()[1]; ch >= 0 && ch != int64(n) {
			return nil, c.Errorf(diag.ShapeMismatch, "the input has %d channels but the statistics have %d values", ch, n)
		}
		a, b := make([]float32, n), make([]float32, n)
		for i := range n {
			s := params[0][i] / math.Sqrt(params[3][i]+eps)
			a[i], b[i] = float32(s), float32(params[1][i]-params[2][i]*s)
		}
		y := x
		if r < 4 {
			axes := []int64{}
			for ax := r; ax < 4; ax++ {
				axes = append(axes, int64(ax))
			}
			y = c.unsqueeze(y, axes...)
		}
		y = c.Net().AddScaleNd(y, dsl.ScaleChannel, dsl.Float32Weights(b...), dsl.Float32Weights(a...), dsl.Weights{}, 1).Output(0)
		if r < 4 {
			axes := []int64{}
			for ax := r; ax < 4; ax++ {
				axes = append(axes, int64(ax))
			}
			y = c.nnSqueeze(y, axes...)
		}
		outs[0] = y
		return outs, nil
	}
	p := make([]*dsl.Tensor, 4)
	for i := range p {
		if spatial {
			p[i] = c.nnPerChannel(c.Input(i+1), r)
		} else {
			// spatial=0 (before opset 9): one statistic per element of
			// (C, D1, ...), shared across the batch.
			p[i] = c.unsqueezeTo(c.Input(i+1), r)
		}
	}
	den := c.nnUnary(c.ew(p[3], c.scalarLike(eps, p[3]), dsl.ElementWiseSum), dsl.UnarySqrt)
	y := c.ew(x, p[2], dsl.ElementWiseSub)
	y = c.ew(y, den, dsl.ElementWiseDiv)
	y = c.ew(y, p[0], dsl.ElementWiseProd)
	outs[0] = c.ew(y, p[1], dsl.ElementWiseSum)
	return outs, nil
}

// importInstanceNorm normalizes each (n, c) plane over the spatial dims.
func importInstanceNorm(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(3); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	r := x.Rank()
	if r < 3 {
		return nil, c.Errorf(diag.ShapeMismatch, "InstanceNormalization input has dims %v; want (N, C, spatial...)", x.Dims())
	}
	var mask uint32
	for a := 2; a < r; a++ {
		mask |= 1 << uint(a)
	}
	l := c.Net().AddNormalizationV2(x, c.nnPerChannel(c.Input(1), r), c.nnPerChannel(c.Input(2), r), mask)
	l.SetEpsilon(c.AttrFloat("epsilon", 1e-5))
	return outputs(l), nil
}

// importLayerNorm normalizes over the dims from axis on. With the Mean and
// InvStdDev outputs requested it composes reductions (they are the
// normalization statistics, with the reduced dims kept as 1).
func importLayerNorm(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(2); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	r := x.Rank()
	axis, err := c.nnAxis("axis", c.AttrInt("axis", -1), r)
	if err != nil {
		return nil, err
	}
	eps := c.AttrFloat("epsilon", 1e-5)
	var mask uint32
	for a := axis; a < r; a++ {
		mask |= 1 << uint(a)
	}
	scale := c.unsqueezeTo(c.Input(1), r)
	var bias *dsl.Tensor
	if c.HasInput(2) {
		bias = c.unsqueezeTo(c.Input(2), r)
	}
	if !c.HasOutput(1) && !c.HasOutput(2) && scale.Dims().IsStatic() {
		if bias == nil {
			z := tensor.New(x.Type(), scale.Dims()...)
			bias = c.Constant(z)
		}
		if bias.Rank() == r && bias.Dims().Equal(scale.Dims()) {
			l := c.Net().AddNormalizationV2(x, scale, bias, mask)
			l.SetEpsilon(eps)
			return outputs(l), nil
		}
	}
	mean := c.Net().AddReduce(x, dsl.ReduceAvg, mask, true).Output(0)
	d := c.ew(x, mean, dsl.ElementWiseSub)
	v := c.Net().AddReduce(c.ew(d, d, dsl.ElementWiseProd), dsl.ReduceAvg, mask, true).Output(0)
	inv := c.nnUnary(c.nnUnary(c.ew(v, c.scalarLike(float64(eps), v), dsl.ElementWiseSum), dsl.UnarySqrt), dsl.UnaryRecip)
	y := c.ew(c.ew(d, inv, dsl.ElementWiseProd), scale, dsl.ElementWiseProd)
	if bias != nil {
		y = c.ew(y, bias, dsl.ElementWiseSum)
	}
	out := []*dsl.Tensor{y}
	if c.HasOutput(1) || c.HasOutput(2) {
		out = append(out, mean)
	}
	if c.HasOutput(2) {
		out = append(out, inv)
	}
	return out, nil
}

// importGroupNorm: opset 18 scales per group, opset 21 per channel.
func importGroupNorm(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(3); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	r := x.Rank()
	if r < 3 {
		return nil, c.Errorf(diag.ShapeMismatch, "GroupNormalization input has dims %v; want (N, C, spatial...)", x.Dims())
	}
	g := c.AttrInt("num_groups", 0)
	if c.err != nil {
		return nil, c.err
	}
	if g < 1 {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute num_groups=%d must be >= 1", g)
	}
	var mask uint32
	for a := 2; a < r; a++ {
		mask |= 1 << uint(a)
	}
	scale, bias := c.nnPerChannel(c.Input(1), r), c.nnPerChannel(c.Input(2), r)
	var l *dsl.NormalizationLayer
	if c.opset < 21 {
		if g == 1 {
			// One group: statistics over C and the spatial dims, one scale.
			l = c.Net().AddNormalizationV2(x, scale, bias, mask|2)
		} else {
			l = c.Net().AddNormalization(x, scale, bias, mask)
			l.SetNbGroups(g)
		}
	} else {
		if g == 1 {
			l = c.Net().AddNormalizationV2(x, scale, bias, mask|2)
		} else {
			l = c.Net().AddNormalizationV2(x, scale, bias, mask)
			l.SetNbGroups(g)
		}
	}
	l.SetEpsilon(c.AttrFloat("epsilon", 1e-5))
	return outputs(l), nil
}

func importLRN(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(1); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	size := c.AttrInt("size", 0)
	alpha, beta, bias := c.AttrFloat("alpha", 1e-4), c.AttrFloat("beta", 0.75), c.AttrFloat("bias", 1)
	if c.err != nil {
		return nil, c.err
	}
	if size < 1 {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute size=%d must be >= 1", size)
	}
	if x.Rank() < 3 {
		return nil, c.Errorf(diag.ShapeMismatch, "LRN input has dims %v; want (N, C, spatial...)", x.Dims())
	}
	in := func(v float32, lo, hi float64) bool { return float64(v) >= lo && float64(v) <= hi }
	if size%2 == 1 && size <= 15 && in(alpha, -1e20, 1e20) && in(beta, 0.01, 1e5) && in(bias, 1e-5, 1e10) {
		return outputs(c.Net().AddLRN(x, size, alpha, beta, bias)), nil
	}
	return c.nnLRNComposed(x, size, float64(alpha), float64(beta), float64(bias))
}

// nnLRNComposed computes LRN outside the LRN layer's limits (even sizes,
// larger windows, other beta or bias): the sum of squares over channels
// [c - floor((size-1)/2), c + ceil((size-1)/2)] as a sum of zero-filled
// channel-shifted slices.
func (c *nodeCtx) nnLRNComposed(x *dsl.Tensor, size int64, alpha, beta, bias float64) ([]*dsl.Tensor, error) {
	ch := x.Dims()[1]
	if ch < 0 {
		return nil, c.Errorf(diag.UnsupportedAttr, "LRN with size=%d needs a static channel dim; the input has %v", size, x.Dims())
	}
	sq := c.ew(x, x, dsl.ElementWiseProd)
	var sum *dsl.Tensor
	for k := range size {
		l := c.Net().AddSlice(sq, dsl.Dims{k - (size-1)/2}, dsl.Dims{ch}, dsl.Dims{1})
		l.SetAxes(dsl.Dims{1})
		l.SetMode(dsl.SampleFill)
		if sum == nil {
			sum = l.Output(0)
		} else {
			sum = c.ew(sum, l.Output(0), dsl.ElementWiseSum)
		}
	}
	den := c.ew(c.ew(sum, c.scalarLike(alpha/float64(size), sum), dsl.ElementWiseProd), c.scalarLike(bias, sum), dsl.ElementWiseSum)
	den = c.ew(den, c.scalarLike(beta, den), dsl.ElementWisePow)
	return []*dsl.Tensor{c.ew(x, den, dsl.ElementWiseDiv)}, nil
}

// importMVN is (x - mean) / sqrt(var + 1e-9) over axes (default N, H, W).
func importMVN(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(1); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	r := x.Rank()
	var mask uint32
	for _, a := range c.AttrInts("axes", []int64{0, 2, 3}) {
		ax, err := c.nnAxis("axes", a, r)
		if err != nil {
			return nil, err
		}
		mask |= 1 << uint(ax)
	}
	mean := c.Net().AddReduce(x, dsl.ReduceAvg, mask, true).Output(0)
	d := c.ew(x, mean, dsl.ElementWiseSub)
	v := c.Net().AddReduce(c.ew(d, d, dsl.ElementWiseProd), dsl.ReduceAvg, mask, true).Output(0)
	den := c.nnUnary(c.ew(v, c.scalarLike(1e-9, v), dsl.ElementWiseSum), dsl.UnarySqrt)
	return []*dsl.Tensor{c.ew(d, den, dsl.ElementWiseDiv)}, nil
}

// importLpNorm divides by the L1 or L2 norm along axis.
func importLpNorm(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(1); err != nil {
		return nil, err
	}
	x := c.Input(0)
	if err := c.nnCheckFloat(x); err != nil {
		return nil, err
	}
	axis, err := c.nnAxis("axis", c.AttrInt("axis", -1), x.Rank())
	if err != nil {
		return nil, err
	}
	var n *dsl.Tensor
	switch p := c.AttrInt("p", 2); p {
	case 1:
		n = c.Net().AddReduce(c.nnUnary(x, dsl.UnaryAbs), dsl.ReduceSum, 1<<uint(axis), true).Output(0)
	case 2:
		n = c.Net().AddReduce(c.ew(x, x, dsl.ElementWiseProd), dsl.ReduceSum, 1<<uint(axis), true).Output(0)
		n = c.nnUnary(n, dsl.UnarySqrt)
	default:
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute p=%d: want 1 or 2", p)
	}
	return []*dsl.Tensor{c.ew(x, n, dsl.ElementWiseDiv)}, nil
}

// nnBatchNormTraining normalizes with the batch statistics (over every
// axis but the channel axis, biased variance) and returns the updated
// running mean and variance: running*momentum + batch*(1-momentum).
func (c *nodeCtx) nnBatchNormTraining(x *dsl.Tensor) ([]*dsl.Tensor, error) {
	r := x.Rank()
	if r < 2 {
		return nil, c.Errorf(diag.ShapeMismatch, "BatchNormalization input has dims %v; want (N, C, ...)", x.Dims())
	}
	eps := float64(c.AttrFloat("epsilon", 1e-5))
	mom := float64(c.AttrFloat("momentum", 0.9))
	var mask uint32
	for a := 0; a < r; a++ {
		if a != 1 {
			mask |= 1 << uint(a)
		}
	}
	mean := c.Net().AddReduce(x, dsl.ReduceAvg, mask, true).Output(0)
	d := c.ew(x, mean, dsl.ElementWiseSub)
	v := c.Net().AddReduce(c.ew(d, d, dsl.ElementWiseProd), dsl.ReduceAvg, mask, true).Output(0)
	den := c.nnUnary(c.ew(v, c.scalarLike(eps, v), dsl.ElementWiseSum), dsl.UnarySqrt)
	y := c.ew(d, den, dsl.ElementWiseDiv)
	y = c.ew(y, c.nnPerChannel(c.Input(1), r), dsl.ElementWiseProd)
	y = c.ew(y, c.nnPerChannel(c.Input(2), r), dsl.ElementWiseSum)
	outs := []*dsl.Tensor{y}
	running := func(in int, batch *dsl.Tensor) *dsl.Tensor {
		b := c.nnReshape(batch, -1)
		old := c.Input(in)
		a := c.ew(old, c.scalarLike(mom, old), dsl.ElementWiseProd)
		return c.ew(a, c.ew(b, c.scalarLike(1-mom, b), dsl.ElementWiseProd), dsl.ElementWiseSum)
	}
	if c.HasOutput(1) || c.HasOutput(2) {
		outs = append(outs, running(3, mean))
	}
	if c.HasOutput(2) {
		outs = append(outs, running(4, v))
	}
	return outs, nil
}
