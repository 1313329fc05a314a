package cuda_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/internal/dsltest"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target/cuda"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// TestDeviceRegionsAgainstCPU runs loops and conditionals as device
// regions on the GPU and on the CPU engine, on several random inputs
// (both branches of the conditional taken): a conditional, a loop whose
// body holds a conditional (a device region in the part's engine), a
// While loop with a Reverse output, and count loops with iterators along
// axes 0 and 1 (one reversed) and Concatenate and Reverse outputs along
// axes 0 and 1.
func TestDeviceRegionsAgainstCPU(t *testing.T) {
	needGPU(t)
	nets := dsltest.Networks()
	for name, net := range map[string]*dsl.Network{
		"if":           nets["if"](rand.New(rand.NewPCG(1, 2))),
		"loop":         nets["loop"](rand.New(rand.NewPCG(1, 2))),
		"loop with if": nets["loop with if"](rand.New(rand.NewPCG(1, 2))),
		"while":        cuda.WhileLoopNet(),
		"scan":         cuda.ScanLoopNet(),
	} {
		t.Run(name, func(t *testing.T) {
			cpu := build(t, net, "cpu", compiler.FP32, nil)
			defer cpu.Close()
			gpu := build(t, net, "cuda", compiler.FP32, nil)
			defer gpu.Close()
			regions := 0
			for _, l := range gpu.Layers() {
				if l.GetTactic() == "device-region" {
					regions++
				}
			}
			if regions != 1 {
				t.Fatalf("%d device-region steps, want 1: %v", regions, gpu.Layers())
			}
			for seed := range uint64(6) {
				in := irtest.RandomInputs(net, seed, 1)
				t.Run(fmt.Sprint(seed), func(t *testing.T) {
					compareOutputs(t, execute(t, cpu, in), execute(t, gpu, in), tolerance.For(dsl.Float32).Scaled(16))
				})
			}
		})
	}
}

// TestEinsumDiagonalAgainstCPU runs the Einsums the compiler leaves to
// the target (a diagonal of a size known only at run time: the profile
// keeps the dims dynamic) on both targets, in fp32 and fp16, at two sets
// of shapes on one engine.
func TestEinsumDiagonalAgainstCPU(t *testing.T) {
	needGPU(t)
	prof := compiler.Profile{Inputs: []compiler.ShapeRange{
		{Input: "a", Min: []int64{3, 1}, Opt: []int64{3, 4}, Max: []int64{3, 80}},
		{Input: "b", Min: []int64{1, 1}, Opt: []int64{4, 4}, Max: []int64{80, 80}},
		{Input: "x", Min: []int64{1, 1, 1}, Opt: []int64{2, 5, 5}, Max: []int64{4, 40, 40}},
	}}
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16} {
		t.Run(dt.String(), func(t *testing.T) {
			net := cuda.EinsumDiagonalNet(dt)
			engines := map[string]*engine.Engine{}
			for _, tgt := range []string{"cpu", "cuda"} {
				cfg := compiler.DefaultConfig()
				cfg.Target, cfg.Precision, cfg.Verify = tgt, compiler.FP32, true
				cfg.Profiles = []compiler.Profile{prof}
				engines[tgt] = buildConfig(t, net, cfg)
				defer engines[tgt].Close()
			}
			kernels := 0
			for _, l := range engines["cuda"].Layers() {
				if l.GetKind() == "Einsum" && l.GetTactic() == "kernel" {
					kernels++
				}
			}
			if kernels != 2 {
				t.Fatalf("%d Einsum kernels, want 2: %v", kernels, engines["cuda"].Layers())
			}
			rng := rand.New(rand.NewPCG(5, 6))
			for _, shapes := range []map[string][]int64{
				{"x": {2, 5, 5}, "a": {3, 4}, "b": {4, 4}},
				{"x": {1, 33, 33}, "a": {3, 70}, "b": {70, 70}},
			} {
				in := map[string]*tensor.Tensor{}
				for _, x := range net.Inputs() {
					in[x.Name()] = irtest.RandomTensor(rng, x.Type(), shapes[x.Name()])
				}
				compareOutputs(t, execute(t, engines["cpu"], in), execute(t, engines["cuda"], in), tolerance.For(dsl.Float32).Scaled(16))
			}
		})
	}
}
