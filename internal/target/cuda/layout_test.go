package cuda

import (
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/tensor"
)

// residualBlock is a small ResNet in half precision over x (float32,
// NCHW with 8 channels): a 3x3 convolution with bias and ReLU, max
// pooling, a 1x1 convolution and a grouped, dilated 3x3 one added to the
// pooled tensor (a bias of [1, C, 1, 1] on the way), ReLU (the block's
// features), a 1x1 convolution with a residual connection and ReLU, and
// a global average pool. It returns the pooled result and the features.
func residualBlock(rng *rand.Rand, n *dsl.Network, x *dsl.Tensor) (pooled, features *dsl.Tensor) {
	half := func(shape ...int64) dsl.Weights { return dsl.NewWeights(irtest.RandomTensor(rng, dsl.Float16, shape)) }
	h := n.AddCast(x, dsl.Float16).Output(0)
	c1 := n.AddConvolutionNd(h, 16, dsl.Dims{3, 3}, half(16, 8, 3, 3), half(16))
	c1.SetPaddingNd(dsl.Dims{1, 1})
	h = n.AddActivation(c1.Output(0), dsl.ActivationReLU).Output(0)
	mp := n.AddPoolingNd(h, dsl.PoolingMax, dsl.Dims{3, 3})
	mp.SetStrideNd(dsl.Dims{2, 2})
	mp.SetPaddingNd(dsl.Dims{1, 1})
	p := mp.Output(0)
	c2 := n.AddConvolutionNd(p, 16, dsl.Dims{1, 1}, half(16, 16, 1, 1), dsl.Weights{})
	c3 := n.AddConvolutionNd(c2.Output(0), 16, dsl.Dims{3, 3}, half(16, 4, 3, 3), half(16))
	c3.SetNbGroups(4)
	c3.SetDilationNd(dsl.Dims{2, 2})
	c3.SetPaddingNd(dsl.Dims{2, 2})
	bias := n.AddConstant(dsl.Dims{1, 16, 1, 1}, half(1, 16, 1, 1)).Output(0)
	y := n.AddElementWise(c3.Output(0), bias, dsl.ElementWiseSum).Output(0)
	y = n.AddElementWise(y, p, dsl.ElementWiseSum).Output(0)
	features = n.AddActivation(y, dsl.ActivationReLU).Output(0)
	c4 := n.AddConvolutionNd(features, 16, dsl.Dims{1, 1}, half(16, 16, 1, 1), half(16))
	y = n.AddElementWise(features, c4.Output(0), dsl.ElementWiseSum).Output(0)
	y = n.AddActivation(y, dsl.ActivationReLU).Output(0)
	f32 := n.AddCast(y, dsl.Float32).Output(0)
	pooled = n.AddReduce(f32, dsl.ReduceAvg, 1<<2|1<<3, true).Output(0)
	return pooled, features
}

// ResidualBlockNet is residualBlock on an input x of dims [n, 8, hw, hw]
// with outputs "pooled" and "features".
func ResidualBlockNet(rng *rand.Rand, n, hw int64) *dsl.Network {
	net := dsl.NewNetwork()
	pooled, features := residualBlock(rng, net, net.AddInput("x", dsl.Float32, dsl.Dims{n, 8, hw, hw}))
	pooled.SetName("pooled")
	features.SetName("features")
	net.MarkOutput(pooled)
	net.MarkOutput(features)
	return net
}

// TestChannelsLastPlan checks that the CUDA plan of the rewritten
// residual block folds the views into the convolutions and the pooling
// and keeps reformats only at the network's input and outputs (the CPU
// engine checks that it computes the same: TestChannelsLastComputesTheSame).
func TestChannelsLastPlan(t *testing.T) {
	rewritten, changed, err := channelsLast(ResidualBlockNet(rand.New(rand.NewPCG(21, 22)), 2, 12))
	if err != nil || !changed {
		t.Fatalf("channelsLast: changed %v, %v", changed, err)
	}
	p, _, layers := lowered(t, rewritten)
	views, copies, relus, residuals := 0, 0, 0, 0
	for i, s := range p.Steps {
		if s.Activation > 0 {
			relus++
		}
		if s.Residual > 0 {
			residuals++
		}
		switch l := layers[i]; {
		case s.Kind == kindConv || l.Type() == dsl.LayerPooling:
			if !isChannelsLast(layers, s) {
				t.Errorf("%s runs NCHW (step %+v)", dsl.LayerString(l), s)
			}
		case s.Kind == kindFused && l.Type() == dsl.LayerShuffle:
			views++
		case s.Kind == kindCopy:
			copies++
		}
	}
	// Two views around each of 4 convolutions and the pooling; the input
	// and the features output are transposed, the pooled output reshaped.
	if views != 10 || copies != 2 {
		t.Errorf("%d views folded (want 10), %d copies (want 2)", views, copies)
	}
	// The first convolution's ReLU and the last one's residual sum and
	// ReLU run in their cuDNN graphs; the grouped one's sums are a
	// pointwise kernel.
	if relus != 2 || residuals != 1 {
		t.Errorf("%d ReLUs and %d residual sums fused into convolutions, want 2 and 1", relus, residuals)
	}
}

// TestChannelsLastLeavesOtherNetworksAlone: float32 convolutions and
// networks without convolutions are not rewritten.
func TestChannelsLastLeavesOtherNetworksAlone(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{1, 4, 8, 8})
	c := net.AddConvolutionNd(x, 4, dsl.Dims{3, 3}, dsl.NewWeights(irtest.RandomTensor(rng, dsl.Float32, []int64{4, 4, 3, 3})), dsl.Weights{})
	c.Output(0).SetName("y")
	net.MarkOutput(c.Output(0))
	if got, changed, err := channelsLast(net); err != nil || changed || got != net {
		t.Errorf("a float32 convolution: changed %v, %v", changed, err)
	}
}

// TestChannelsLastKernel reorders a K x C x R x S kernel to K x R x S x C.
func TestChannelsLastKernel(t *testing.T) {
	w := tensor.New(dsl.Float32, 24) // weights are often flat
	v := w.Float32s()
	for i := range v {
		v[i] = float32(i)
	}
	got, err := channelsLastKernel(w, [4]int64{2, 3, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := channelsLastKernel(w, [4]int64{2, 3, 2, 3}); err == nil {
		t.Error("a kernel of the wrong size reordered without an error")
	}
	if s := got.Shape(); len(s) != 4 || s[0] != 2 || s[1] != 2 || s[2] != 2 || s[3] != 3 {
		t.Fatalf("shape %v, want [2 2 2 3]", s)
	}
	g := got.Float32s()
	for k := 0; k < 2; k++ {
		for c := 0; c < 3; c++ {
			for rs := 0; rs < 4; rs++ {
				if a, b := g[(k*4+rs)*3+c], v[(k*3+c)*4+rs]; a != b {
					t.Fatalf("w[%d][%d][%d] moved to %v, want %v", k, c, rs, a, b)
				}
			}
		}
	}
}
