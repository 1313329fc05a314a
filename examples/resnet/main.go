// Command resnet builds ResNet-18 in trtc's Go DSL (with dsl/nn), compiles
// it with trtc's compiler for the best target present, runs it on a random
// image and prints the top-5 classes and the time per run.
//
//	go run ./examples/resnet [-batch 1] [-runs 3] [-precision fp16] [-o resnet18.engine]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/tensor"
)

func main() {
	batch := flag.Int64("batch", 1, "images per run")
	runs := flag.Int("runs", 3, "timed runs after one warm-up run")
	prec := flag.String("precision", "fp32", "fp32, tf32, fp16 or bf16")
	out := flag.String("o", "", "also write the engine to this file")
	flag.Parse()
	if *batch < 1 || *runs < 1 {
		log.Fatal("-batch and -runs must be at least 1")
	}
	p, err := compiler.ParsePrecision(*prec)
	if err != nil {
		log.Fatal(err)
	}
	if err := run(*batch, *runs, p, *out); err != nil {
		fmt.Fprintln(os.Stderr, "resnet:", err)
		os.Exit(1)
	}
}

func run(batch int64, runs int, precision compiler.Precision, enginePath string) error {
	start := time.Now()
	net, err := buildResNet18(-1, 1000, 42)
	if err != nil {
		return err
	}
	fmt.Printf("built %s in the DSL: %d layers in %v\n", net.Name(), net.NbLayers(), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	cfg := compiler.DefaultConfig() // the best target present: today the CPU engine
	cfg.Precision = precision
	cfg.Profiles = []compiler.Profile{compiler.StaticProfile(map[string][]int64{"image": {batch, 3, 224, 224}})}
	plan, err := compiler.Build(net, cfg)
	if err != nil {
		return err
	}
	if enginePath != "" {
		if err := plan.Save(enginePath); err != nil {
			return err
		}
		fmt.Printf("wrote %s (inspect it with: go run ./cmd/trtc inspect %s)\n", enginePath, enginePath)
	}
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		return err
	}
	defer eng.Close()
	b := plan.Manifest.GetBuild()
	fmt.Printf("compiled for target %s in %v: %d -> %d layers, %d fusions, %s\n", eng.Target(),
		time.Since(start).Round(time.Millisecond), b.GetLayersBefore(), len(b.GetLayers()), len(b.GetFusions()), b.GetPrecision())
	ectx, err := eng.NewContext()
	if err != nil {
		return err
	}
	defer ectx.Close()

	img := randomImage(batch, 7)
	inputs := map[string]*tensor.Tensor{"image": img}
	if _, err := ectx.Execute(context.Background(), inputs); err != nil { // warm-up
		return err
	}
	var best time.Duration
	var out map[string]*tensor.Tensor
	for i := 0; i < runs; i++ {
		t0 := time.Now()
		out, err = ectx.Execute(context.Background(), inputs)
		if err != nil {
			return err
		}
		if d := time.Since(t0); i == 0 || d < best {
			best = d
		}
	}
	fmt.Printf("batch %d on %d cores: best of %d runs %v (%.1f images/s)\n",
		batch, runtime.GOMAXPROCS(0), runs, best.Round(time.Microsecond), float64(batch)/best.Seconds())
	logits := out["logits"].Float32s()
	fmt.Println("top-5 classes of image 0 (random weights, so the classes mean nothing):")
	for _, c := range topK(logits[:1000], 5) {
		fmt.Printf("  class %4d  logit %+.4f\n", c, logits[c])
	}
	return nil
}

// randomImage returns normalized-looking random pixels in [-2, 2).
func randomImage(batch int64, seed uint64) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, seed))
	v := make([]float32, batch*3*224*224)
	for i := range v {
		v[i] = float32(rng.Float64()*4 - 2)
	}
	t, _ := tensor.FromFloat32([]int64{batch, 3, 224, 224}, v)
	return t
}

func topK(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] > v[idx[b]] })
	return idx[:k]
}
