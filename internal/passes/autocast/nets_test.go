package autocast

import (
	"math"
	"math/rand/v2"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/dsl/nn"
	"github.com/trtc/trtc/tensor"
)

// The networks the tests rewrite, built by hand. Weights are uniform in
// ±1/sqrt(fan-in), PyTorch's default initialization, so activations stay
// of order 1 through the layers and a relative tolerance means something.

func randWeights(rng *rand.Rand, fanIn int64, shape ...int64) dsl.Weights {
	n := tensor.Volume(shape)
	v := make([]float32, n)
	s := 1 / math.Sqrt(float64(fanIn))
	for i := range v {
		v[i] = float32((rng.Float64()*2 - 1) * s)
	}
	t, err := tensor.FromFloat32(shape, v)
	if err != nil {
		panic(err)
	}
	return dsl.NewWeights(t)
}

func name(l dsl.Layer, n string) *dsl.Tensor {
	l.SetName(n)
	return l.Output(0)
}

// mlpNet: x [4, 64] -> Linear 64->128 -> ReLU -> Linear 128->32, as
// MatrixMultiply + ElementWise bias + Activation.
func mlpNet() *dsl.Network {
	rng := rand.New(rand.NewPCG(1, 1))
	net := dsl.NewNetwork()
	net.SetName("mlp")
	x := net.AddInput("x", dsl.Float32, dsl.Dims{4, 64})
	linear := func(x *dsl.Tensor, in, out int64, n string) *dsl.Tensor {
		w := name(net.AddConstant(dsl.Dims{out, in}, randWeights(rng, in, out, in)), n+".weight")
		y := name(net.AddMatrixMultiply(x, dsl.MatrixOpNone, w, dsl.MatrixOpTranspose), n+".matmul")
		b := name(net.AddConstant(dsl.Dims{1, out}, randWeights(rng, in, 1, out)), n+".bias")
		return name(net.AddElementWise(y, b, dsl.ElementWiseSum), n+".add")
	}
	h := linear(x, 64, 128, "fc1")
	h = name(net.AddActivation(h, dsl.ActivationReLU), "relu")
	y := linear(h, 128, 32, "fc2")
	y.SetName("y")
	net.MarkOutput(y)
	return net
}

// convNet: x [2, 3, 16, 16] -> Conv 3x3 (bias) -> BatchNorm (Scale) ->
// ReLU -> max pool 2x2 -> Conv 3x3 -> average pool 2x2.
func convNet() *dsl.Network {
	rng := rand.New(rand.NewPCG(2, 2))
	net := dsl.NewNetwork()
	net.SetName("convnet")
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 3, 16, 16})
	c1 := net.AddConvolutionNd(x, 8, dsl.Dims{3, 3}, randWeights(rng, 27, 8, 3, 3, 3), randWeights(rng, 27, 8))
	c1.SetPaddingNd(dsl.Dims{1, 1})
	h := name(c1, "conv1")
	bn := nn.BatchNorm(net, h, nn.BatchNormParams{
		Gamma: []float32{1, 0.9, 1.1, 1.2, 0.8, 1, 1, 0.7}, Beta: []float32{0, 0.1, -0.1, 0.2, 0, 0.3, -0.2, 0.1},
		Mean: []float32{0.1, 0, -0.1, 0, 0.2, 0, 0, 0.1}, Var: []float32{1, 0.5, 2, 1, 1.5, 1, 0.8, 1.2}, Eps: 1e-5})
	p, _ := bn.Producer()
	p.SetName("bn1")
	h = name(net.AddActivation(bn, dsl.ActivationReLU), "relu1")
	h = name(net.AddPoolingNd(h, dsl.PoolingMax, dsl.Dims{2, 2}), "maxpool")
	h = name(net.AddConvolutionNd(h, 16, dsl.Dims{3, 3}, randWeights(rng, 72, 16, 8, 3, 3), dsl.Weights{}), "conv2")
	y := name(net.AddPoolingNd(h, dsl.PoolingAverage, dsl.Dims{2, 2}), "avgpool")
	y.SetName("y")
	net.MarkOutput(y)
	return net
}

// transformerNet is one pre-norm transformer block over x [2, 8, 32]
// written with plain layers: LayerNorm (a Normalization layer), q/k/v
// projections, scores = q·kᵀ/√d, SoftMax over the keys, ·v, the output
// projection, a residual add, a second LayerNorm and a GELU MLP with its
// residual.
func transformerNet() *dsl.Network {
	const b, s, e = 2, 8, 32
	rng := rand.New(rand.NewPCG(3, 3))
	net := dsl.NewNetwork()
	net.SetName("transformer")
	x := net.AddInput("x", dsl.Float32, dsl.Dims{b, s, e})
	ones := func(n int64) dsl.Weights {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1 + 0.1*float32(rng.Float64()-0.5)
		}
		t, _ := tensor.FromFloat32([]int64{n}, v)
		return dsl.NewWeights(t)
	}
	zeros := func(n int64) dsl.Weights {
		t, _ := tensor.FromFloat32([]int64{n}, make([]float32, n))
		return dsl.NewWeights(t)
	}
	layerNorm := func(x *dsl.Tensor, n string) *dsl.Tensor {
		y := nn.LayerNorm(net, x, ones(e), zeros(e), 1e-5)
		l, _ := y.Producer()
		l.SetName(n)
		return y
	}
	linear := func(x *dsl.Tensor, in, out int64, n string) *dsl.Tensor {
		y := nn.Linear(net, x, randWeights(rng, in, out, in), randWeights(rng, in, out))
		l, _ := y.Producer()
		l.SetName(n)
		return y
	}
	h := layerNorm(x, "ln1")
	q := linear(h, e, e, "q")
	k := linear(h, e, e, "k")
	v := linear(h, e, e, "v")
	scores := name(net.AddMatrixMultiply(q, dsl.MatrixOpNone, k, dsl.MatrixOpTranspose), "scores")
	scale := name(net.AddConstant(dsl.Dims{1, 1, 1}, dsl.Float32Weights(float32(1/math.Sqrt(e)))), "scale")
	scores = name(net.AddElementWise(scores, scale, dsl.ElementWiseProd), "scaled")
	sm := net.AddSoftMax(scores)
	sm.SetAxes(1 << 2)
	probs := name(sm, "softmax")
	att := name(net.AddMatrixMultiply(probs, dsl.MatrixOpNone, v, dsl.MatrixOpNone), "attend")
	att = linear(att, e, e, "proj")
	h = name(net.AddElementWise(x, att, dsl.ElementWiseSum), "residual1")
	m := layerNorm(h, "ln2")
	m = linear(m, e, 4*e, "fc1")
	m = name(net.AddActivation(m, dsl.ActivationGeluErf), "gelu")
	m = linear(m, 4*e, e, "fc2")
	y := name(net.AddElementWise(h, m, dsl.ElementWiseSum), "residual2")
	y.SetName("y")
	net.MarkOutput(y)
	return net
}

// attentionNet is self-attention through nn.MultiHeadAttention (a fused
// Attention layer) followed by a LayerNorm.
func attentionNet() *dsl.Network {
	const e = 32
	rng := rand.New(rand.NewPCG(4, 4))
	net := dsl.NewNetwork()
	net.SetName("mha")
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 8, e})
	w := func() dsl.Weights { return randWeights(rng, e, e, e) }
	bias := func() dsl.Weights { return randWeights(rng, e, e) }
	a := nn.MultiHeadAttention(net, x, nn.MultiHeadAttentionParams{Heads: 4, Wq: w(), Wk: w(), Wv: w(), Wo: w(),
		Bq: bias(), Bk: bias(), Bv: bias(), Bo: bias()})
	g, _ := tensor.FromFloat32([]int64{e}, onesF(e))
	z, _ := tensor.FromFloat32([]int64{e}, make([]float32, e))
	y := nn.LayerNorm(net, a, dsl.NewWeights(g), dsl.NewWeights(z), 1e-5)
	y.SetName("y")
	net.MarkOutput(y)
	return net
}

func onesF(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}
