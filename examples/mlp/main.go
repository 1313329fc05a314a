// Command mlp builds a small multi-layer perceptron in trtc's Go DSL, with
// weights from a safetensors file (PyTorch state-dict names fc1.weight,
// fc1.bias, ...) or generated, and runs a random batch on the CPU engine.
//
//	go run ./examples/mlp                          # generated weights
//	go run ./examples/mlp -save mlp.safetensors    # ... and save them
//	go run ./examples/mlp -weights mlp.safetensors # load them
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

func main() {
	weightsPath := flag.String("weights", "", "safetensors file with fc1.weight, fc1.bias, ... (default: generated)")
	savePath := flag.String("save", "", "write the weights used to this safetensors file")
	batch := flag.Int64("batch", 4, "rows in the random input batch")
	flag.Parse()
	if err := run(*weightsPath, *savePath, *batch); err != nil {
		fmt.Fprintln(os.Stderr, "mlp:", err)
		os.Exit(1)
	}
}

func run(weightsPath, savePath string, batch int64) error {
	if batch < 1 {
		return fmt.Errorf("-batch must be at least 1, got %d", batch)
	}
	weights := randomWeights(1)
	if weightsPath != "" {
		st, err := tensor.LoadSafetensors(weightsPath)
		if err != nil {
			return err
		}
		weights = st.Tensors
	}
	if savePath != "" {
		if err := tensor.SaveSafetensors(savePath, weights, map[string]string{"model": "trtc examples/mlp"}); err != nil {
			return err
		}
	}
	net, err := buildMLP(weights)
	if err != nil {
		return err
	}
	x := make([]float32, batch*layerSizes[0])
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range x {
		x[i] = rng.Float32()
	}
	in, _ := tensor.FromFloat32([]int64{batch, layerSizes[0]}, x)
	out, err := cpu.Run(net, map[string]*tensor.Tensor{"x": in})
	if err != nil {
		return err
	}
	probs := out["probs"].Float32s()
	classes := layerSizes[len(layerSizes)-1]
	for r := int64(0); r < batch; r++ {
		row := probs[r*classes : (r+1)*classes]
		best := 0
		for c := range row {
			if row[c] > row[best] {
				best = c
			}
		}
		fmt.Printf("row %d: class %d (p=%.3f)\n", r, best, row[best])
	}
	return nil
}
