// Command plugin shows a custom layer end to end: the SwiGLU plugin of
// package swiglu (one Define call: attributes, shape rule, a Go
// implementation and CUDA kernels) used from the Go DSL and from an ONNX
// model with a SwiGLU node in a custom domain. Both networks are compiled
// with trtc's compiler, run on the same batch and checked against SwiGLU
// computed directly.
//
//	go run ./examples/plugin                 # CPU target
//	go run ./examples/plugin -batch 3 -target auto
//	go run ./examples/plugin/genmodel        # rewrite testdata/swiglu.onnx
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/examples/plugin/model"
	"github.com/trtc/trtc/examples/plugin/swiglu"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/tensor"
)

//go:embed testdata/swiglu.onnx
var onnxModel []byte

func main() {
	batch := flag.Int64("batch", 2, "rows in the input batch")
	target := flag.String("target", "cpu", "compiler target (cpu, cuda, tensorrt, auto)")
	flag.Parse()
	if err := run(os.Stdout, *batch, *target); err != nil {
		fmt.Fprintln(os.Stderr, "plugin:", err)
		os.Exit(1)
	}
}

// result is one network's output and its largest distance to the direct
// computation.
type result struct {
	y       []float32
	maxDiff float64
}

func run(w io.Writer, batch int64, target string) error {
	res, err := compute(batch, target)
	if err != nil {
		return err
	}
	for _, name := range []string{"dsl", "onnx"} {
		r := res[name]
		fmt.Fprintf(w, "%s network (target %s), y[0] = %.4f\n", name, target, r.y[:model.Width])
		fmt.Fprintf(w, "%s network: max |y - reference| = %.2g over %d values\n", name, r.maxDiff, len(r.y))
	}
	return nil
}

// compute builds both networks, runs them on one batch and compares them
// with Reference.
func compute(batch int64, target string) (map[string]result, error) {
	if batch < 1 {
		return nil, fmt.Errorf("-batch must be at least 1, got %d", batch)
	}
	x := Input(batch)
	want := Reference(x.Float32s(), batch)
	fromONNX, err := onnx.ImportBytes(onnxModel, onnx.Options{})
	if err != nil {
		return nil, err
	}
	out := map[string]result{}
	for name, net := range map[string]*dsl.Network{"dsl": model.DSL(), "onnx": fromONNX} {
		y, err := compileAndRun(net, target, x)
		if err != nil {
			return nil, fmt.Errorf("%s network: %w", name, err)
		}
		r := result{y: y.Float32s()}
		for i, v := range r.y {
			r.maxDiff = math.Max(r.maxDiff, math.Abs(float64(v)-want[i]))
		}
		out[name] = r
	}
	return out, nil
}

// Input is a deterministic batch.
func Input(batch int64) *tensor.Tensor {
	x := make([]float32, batch*model.Width)
	for i := range x {
		x[i] = float32(math.Cos(float64(i) * 0.7))
	}
	t, _ := tensor.FromFloat32([]int64{batch, model.Width}, x)
	return t
}

// Reference computes the model with plain loops in float64: h = x W, then
// y = g * sigmoid(beta*g) * u with g, u the halves of each row of h.
func Reference(x []float32, batch int64) []float64 {
	w := model.Weights().Float32s()
	const n = model.Width
	y := make([]float64, 0, batch*n)
	for r := int64(0); r < batch; r++ {
		h := make([]float64, 2*n)
		for j := range h {
			for k := 0; k < n; k++ {
				h[j] += float64(x[r*n+int64(k)]) * float64(w[k*2*n+j])
			}
		}
		for c := 0; c < n; c++ {
			g, u := h[c], h[n+c]
			y = append(y, g/(1+math.Exp(-model.Beta*g))*u)
		}
	}
	return y
}

// compileAndRun builds an engine for x's shape and runs it once.
func compileAndRun(net *dsl.Network, target string, x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := net.Err(); err != nil {
		return nil, err
	}
	cfg := compiler.DefaultConfig()
	cfg.Target = target
	cfg.Profiles = []compiler.Profile{compiler.StaticProfile(map[string][]int64{"x": x.Shape()})}
	plan, err := compiler.Build(net, cfg)
	if err != nil {
		return nil, err
	}
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	out, err := eng.Run(context.Background(), map[string]*tensor.Tensor{"x": x})
	if err != nil {
		return nil, err
	}
	return out["y"], nil
}

// The plugin registers itself when package swiglu is imported (model
// imports it too); naming it here makes the dependency visible.
var _ = swiglu.Creator
