// Command mlp builds a small multi-layer perceptron in trtc's Go DSL, with
// weights from a safetensors file (PyTorch state-dict names fc1.weight,
// fc1.bias, ...) or generated, compiles it with trtc's compiler for the
// best target present and runs a random batch.
//
//	go run ./examples/mlp                          # generated weights
//	go run ./examples/mlp -save mlp.safetensors    # ... and save them
//	go run ./examples/mlp -weights mlp.safetensors # load them
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
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
	out, err := compileAndRun(net, map[string]*tensor.Tensor{"x": in})
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

// compileAndRun builds an engine for the input's batch size (a profile
// fixed at its shape) and runs it once.
func compileAndRun(net *dsl.Network, in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	cfg := compiler.DefaultConfig()
	cfg.Profiles = []compiler.Profile{compiler.StaticProfile(map[string][]int64{"x": in["x"].Shape()})}
	plan, err := compiler.Build(net, cfg)
	if err != nil {
		return nil, err
	}
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	return eng.Run(context.Background(), in)
}
