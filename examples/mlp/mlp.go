package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/dsl/nn"
	"github.com/trtc/trtc/tensor"
)

// The MLP's layer sizes: 784 inputs (a 28x28 image), two hidden layers, 10 classes.
var layerSizes = []int64{784, 256, 128, 10}

// weightNames are the safetensors keys, in PyTorch's state-dict style.
func weightNames(i int) (w, b string) {
	return fmt.Sprintf("fc%d.weight", i+1), fmt.Sprintf("fc%d.bias", i+1)
}

// randomWeights returns seeded weights for every layer (PyTorch's default
// Linear initialization: uniform in ±1/sqrt(in)).
func randomWeights(seed uint64) map[string]*tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, seed))
	out := map[string]*tensor.Tensor{}
	for i := 0; i+1 < len(layerSizes); i++ {
		in, o := layerSizes[i], layerSizes[i+1]
		bound := 1 / math.Sqrt(float64(in))
		uni := func(n int64) []float32 {
			v := make([]float32, n)
			for j := range v {
				v[j] = float32((rng.Float64()*2 - 1) * bound)
			}
			return v
		}
		wn, bn := weightNames(i)
		out[wn], _ = tensor.FromFloat32([]int64{o, in}, uni(o*in))
		out[bn], _ = tensor.FromFloat32([]int64{o}, uni(o))
	}
	return out
}

// buildMLP builds Linear-ReLU-Linear-ReLU-Linear-SoftMax over a dynamic
// batch; input "x" [batch, 784], output "probs" [batch, 10].
func buildMLP(weights map[string]*tensor.Tensor) (*dsl.Network, error) {
	net := dsl.NewNetwork()
	net.SetName("mlp")
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, layerSizes[0]})
	for i := 0; i+1 < len(layerSizes); i++ {
		wn, bn := weightNames(i)
		w, b := weights[wn], weights[bn]
		if w == nil || b == nil {
			return nil, fmt.Errorf("weights %q and %q are required", wn, bn)
		}
		x = nn.Linear(net, x, dsl.NewWeights(w), dsl.NewWeights(b))
		if i+2 < len(layerSizes) {
			x = net.AddActivation(x, dsl.ActivationReLU).Output(0)
		}
	}
	sm := net.AddSoftMax(x)
	sm.SetAxes(1 << 1)
	probs := sm.Output(0)
	probs.SetName("probs")
	net.MarkOutput(probs)
	if err := net.Err(); err != nil {
		return nil, err
	}
	return net, nil
}
