package compiler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/internal/conformance"
	"github.com/trtc/trtc/tensor"
)

// TestConformanceCompiledCPU runs the ONNX backend test data through the
// whole pipeline: import, compiler.Build for the CPU target (every pass,
// verified after each), the engine file's bytes, engine.Load, Execute.
// Every case the plain CPU engine passes must pass here too: a pass that
// changes an answer, or a layer the engine file loses, shows up as a
// failing case. The exclude list is the CPU engine's.
func TestConformanceCompiledCPU(t *testing.T) {
	root := os.Getenv("ONNX_TESTDATA")
	if root == "" {
		root = conformance.DefaultRoot
	}
	if _, err := os.Stat(filepath.Join(root, "node")); err != nil {
		t.Skipf("ONNX backend test data not found at %s (apt-get install libonnx-testdata, or set ONNX_TESTDATA)", root)
	}
	cases, err := conformance.Cases(root)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := conformance.LoadExcludes(filepath.Join("..", "importers", "onnx", "testdata", "conformance_cpu_exclude.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var only *regexp.Regexp
	if pat := os.Getenv("ONNX_ONLY"); pat != "" {
		only = regexp.MustCompile(pat)
	}
	var results []conformance.Result
	for _, c := range cases {
		key := c.Group + "/" + c.Name
		if only != nil && !only.MatchString(key) {
			continue
		}
		if _, excluded := ex[key]; excluded {
			results = append(results, conformance.Result{Case: c, Status: conformance.Skipped})
			continue
		}
		r := conformance.Run(c, compiledRunner)
		if r.Status == conformance.Failed {
			t.Errorf("%s: %s", key, r.Detail)
		}
		results = append(results, r)
	}
	summary := conformance.Summary(results)
	t.Log("\n" + summary)
	fmt.Print(summary)
}

// compiledRunner builds net for the CPU target with a profile fixed at the
// inputs' shapes, loads the engine from its bytes and runs it.
func compiledRunner(net *dsl.Network, in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	shapes := map[string][]int64{}
	for _, x := range net.Inputs() {
		for _, d := range x.Dims() {
			if d < 0 {
				shapes[x.Name()] = in[x.Name()].Shape()
				break
			}
		}
	}
	cfg := compiler.DefaultConfig()
	cfg.Target = "cpu"
	cfg.Verify = true
	if len(shapes) > 0 {
		cfg.Profiles = []compiler.Profile{compiler.StaticProfile(shapes)}
	}
	plan, err := compiler.Build(net, cfg)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer eng.Close()
	ctx, err := eng.NewContext()
	if err != nil {
		return nil, err
	}
	defer ctx.Close()
	return ctx.Execute(context.Background(), in)
}
