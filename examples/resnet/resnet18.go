package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/dsl/nn"
	"github.com/trtc/trtc/tensor"
)

// ResNet-18 (He et al., 2015; torchvision's resnet18) written with dsl/nn.
// Weights are random (He initialization, seeded) and batch norms carry
// random statistics, so the network computes the same kind of numbers a
// trained one does without needing a download.

// initializer hands out seeded random weights in PyTorch's layouts.
type initializer struct{ rng *rand.Rand }

func (w *initializer) normal(std float64, shape ...int64) dsl.Weights {
	n := tensor.Volume(shape)
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(w.rng.NormFloat64() * std)
	}
	t, err := tensor.FromFloat32(shape, v)
	if err != nil {
		panic(err) // shapes here are constants of the architecture
	}
	return dsl.NewWeights(t)
}

func (w *initializer) uniform(lo, hi float64, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*w.rng.Float64())
	}
	return v
}

// conv is a bias-free convolution with He-initialized weights.
func (w *initializer) conv(net *dsl.Network, x *dsl.Tensor, in, out, k, stride, pad int64) *dsl.Tensor {
	std := math.Sqrt(2 / float64(in*k*k))
	return nn.Conv2d(net, x, w.normal(std, out, in, k, k), dsl.Weights{},
		nn.Conv2dOptions{Stride: [2]int64{stride, stride}, Padding: [2]int64{pad, pad}})
}

// bn is an inference batch norm with plausible random statistics.
func (w *initializer) bn(net *dsl.Network, x *dsl.Tensor, c int) *dsl.Tensor {
	return nn.BatchNorm(net, x, nn.BatchNormParams{
		Gamma: w.uniform(0.5, 1.5, c), Beta: w.uniform(-0.1, 0.1, c),
		Mean: w.uniform(-0.1, 0.1, c), Var: w.uniform(0.5, 1.5, c), Eps: 1e-5,
	})
}

func relu(net *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
	return net.AddActivation(x, dsl.ActivationReLU).Output(0)
}

// basicBlock is ResNet's two-convolution residual block, with a 1x1
// projection on the shortcut when the shape changes.
func (w *initializer) basicBlock(net *dsl.Network, x *dsl.Tensor, in, out, stride int64) *dsl.Tensor {
	y := relu(net, w.bn(net, w.conv(net, x, in, out, 3, stride, 1), int(out)))
	y = w.bn(net, w.conv(net, y, out, out, 3, 1, 1), int(out))
	shortcut := x
	if stride != 1 || in != out {
		shortcut = w.bn(net, w.conv(net, x, in, out, 1, stride, 0), int(out))
	}
	return relu(net, net.AddElementWise(y, shortcut, dsl.ElementWiseSum).Output(0))
}

// buildResNet18 returns ResNet-18 for [batch, 3, 224, 224] float32 images
// (batch -1 for a dynamic batch) with output "logits" [batch, classes].
func buildResNet18(batch int64, classes int64, seed uint64) (*dsl.Network, error) {
	w := &initializer{rng: rand.New(rand.NewPCG(seed, seed+1))}
	net := dsl.NewNetwork()
	net.SetName("resnet18")
	x := net.AddInput("image", dsl.Float32, dsl.Dims{batch, 3, 224, 224})

	y := relu(net, w.bn(net, w.conv(net, x, 3, 64, 7, 2, 3), 64))
	pool := net.AddPoolingNd(y, dsl.PoolingMax, dsl.Dims{3, 3})
	pool.SetStrideNd(dsl.Dims{2, 2})
	pool.SetPaddingNd(dsl.Dims{1, 1})
	y = pool.Output(0)

	in := int64(64)
	for stage, out := range []int64{64, 128, 256, 512} {
		stride := int64(2)
		if stage == 0 {
			stride = 1
		}
		y = w.basicBlock(net, y, in, out, stride)
		y = w.basicBlock(net, y, out, out, 1)
		in = out
	}
	// Global average pool over H and W, then the classifier.
	y = net.AddReduce(y, dsl.ReduceAvg, 1<<2|1<<3, false).Output(0)
	bound := 1 / math.Sqrt(512)
	fcW := w.normal(bound, classes, 512)
	fcB := w.normal(bound, classes)
	logits := nn.Linear(net, y, fcW, fcB)
	logits.SetName("logits")
	net.MarkOutput(logits)
	if err := net.Err(); err != nil {
		return nil, fmt.Errorf("building ResNet-18: %w", err)
	}
	return net, nil
}
