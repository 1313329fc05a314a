package compiler_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/internal/enginetest"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/tensor"
)

func buildMLP(t *testing.T) *engine.Plan {
	cfg := cpuConfig()
	cfg.Profiles = []compiler.Profile{batchProfile(1, 4, 16)}
	plan, err := compiler.Build(mlp(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestContextsRunConcurrently runs 8 goroutines, each with its own context
// of one engine, and checks every result equals a single context's.
func TestContextsRunConcurrently(t *testing.T) {
	eng, err := engine.LoadPlan(buildMLP(t))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	in := irtest.RandomInputs(mlp(t), 3, 16)
	one, _ := eng.NewContext()
	want, err := one.Execute(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	enginetest.ConcurrentContexts(t, eng, in, want, 8, 20)
}

// TestSavedEngineLoads writes the engine to a file and loads it back.
func TestSavedEngineLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mlp.engine")
	if err := buildMLP(t).Save(path); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if p := eng.Profiles(); len(p) != 1 || p[0].Inputs[0].Max[0] != 16 {
		t.Errorf("profiles %+v", p)
	}
	if eng.DeviceMemorySize() <= 0 {
		t.Errorf("memory size %d", eng.DeviceMemorySize())
	}
	if len(eng.Layers()) == 0 {
		t.Error("no layer information")
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
	if len(matches) != 0 {
		t.Errorf("Save left temporary files: %v", matches)
	}
}

// TestForeignAndCorruptEngines: an engine for a target this binary lacks,
// one whose network encoding differs, and a flipped byte each fail with the
// right code and a message naming what differs.
func TestForeignAndCorruptEngines(t *testing.T) {
	plan := buildMLP(t)
	plan.Manifest.Target = "tensorrt"
	_, err := engine.LoadPlan(plan)
	if !errors.Is(err, diag.EngineIncompatible) || !strings.Contains(err.Error(), `engine built for target "tensorrt", which this trtc binary does not include (it has: cpu, cuda)`) {
		t.Errorf("foreign target: %v", err)
	}

	plan = buildMLP(t)
	plan.Manifest.Metadata["cpu.network_encoding"] = "0-older"
	_, err = engine.LoadPlan(plan)
	if !errors.Is(err, diag.EngineIncompatible) || !strings.Contains(err.Error(), `layer schema is "0-older"`) {
		t.Errorf("other encoding: %v", err)
	}

	b, err := buildMLP(t).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-10] ^= 0xff // inside the last section
	_, err = engine.LoadBytes(b)
	if !errors.Is(err, diag.EngineCorrupt) || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("flipped byte: %v", err)
	}
	_, err = engine.LoadBytes(b[:100])
	if !errors.Is(err, diag.EngineCorrupt) {
		t.Errorf("truncated: %v", err)
	}
	path := filepath.Join(t.TempDir(), "not.engine")
	os.WriteFile(path, []byte("ONNX and not an engine"), 0o644)
	if _, err := engine.Load(path); !errors.Is(err, diag.EngineCorrupt) || !strings.Contains(err.Error(), "bad magic") {
		t.Errorf("not an engine: %v", err)
	}
}

// TestStaticProfileSpecializes: a profile fixed at one shape lets the
// compiler fold the network's shape arithmetic, while the engine's
// bindings keep their declared dynamic dims.
func TestStaticProfileSpecializes(t *testing.T) {
	cfg := cpuConfig()
	cfg.Profiles = []compiler.Profile{compiler.StaticProfile(map[string][]int64{"x": {5, 16}})}
	plan, err := compiler.Build(mlp(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	if d := eng.Inputs()[0].Dims; d[0] != -1 {
		t.Errorf("binding dims %v, want the declared -1x16", d)
	}
	c, _ := eng.NewContext()
	if _, err := c.Execute(context.Background(), map[string]*tensor.Tensor{"x": tensor.New(tensor.Float32, 4, 16)}); !errors.Is(err, diag.ShapeMismatch) {
		t.Errorf("a shape outside the static profile: %v", err)
	}
}

// TestTimingCacheFile: a build writes the cache file; a corrupt one fails
// the build with InvalidFile naming it.
func TestTimingCacheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "timing.cache")
	cfg := cpuConfig()
	cfg.Profiles = []compiler.Profile{batchProfile(1, 1, 2)}
	cfg.TimingCachePath = path
	if _, err := compiler.Build(mlp(t), cfg); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "trtc-timing-cache") {
		t.Fatalf("cache file not written: %v %q", err, b)
	}
	os.WriteFile(path, []byte("{not json"), 0o644)
	if _, err := compiler.Build(mlp(t), cfg); !errors.Is(err, diag.InvalidFile) || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt cache: %v", err)
	}
}
