package triton

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/engine/enginepb"
	"github.com/trtc/trtc/internal/golden"
	"github.com/trtc/trtc/tensor"
)

func desc(name string, dt tensor.DataType, dims ...int64) *enginepb.TensorDesc {
	return &enginepb.TensorDesc{Name: name, Dtype: int32(dt), Dims: dims}
}

func profile(input string, mn, opt, mx []int64) *enginepb.OptimizationProfile {
	return &enginepb.OptimizationProfile{Inputs: []*enginepb.ShapeRange{{Input: input, Min: mn, Opt: opt, Max: mx}}}
}

// resnet is batched: dim 0 dynamic everywhere, profiles cover 1..32.
func resnet() *enginepb.Manifest {
	return &enginepb.Manifest{
		Target:  "tensorrt",
		Inputs:  []*enginepb.TensorDesc{desc("images", tensor.Float16, -1, 3, 224, 224)},
		Outputs: []*enginepb.TensorDesc{desc("logits", tensor.Float32, -1, 1000)},
		Profiles: []*enginepb.OptimizationProfile{
			profile("images", []int64{1, 3, 224, 224}, []int64{8, 3, 224, 224}, []int64{16, 3, 224, 224}),
			profile("images", []int64{16, 3, 224, 224}, []int64{32, 3, 224, 224}, []int64{32, 3, 224, 224}),
		},
	}
}

func TestConfigGolden(t *testing.T) {
	static := &enginepb.Manifest{
		Target:  "tensorrt",
		Inputs:  []*enginepb.TensorDesc{desc("x", tensor.Float32, 1, 16), desc("mask", tensor.Bool, 1, 16)},
		Outputs: []*enginepb.TensorDesc{desc("y", tensor.Int64, 1, 4), desc("score", tensor.BFloat16)},
	}
	// Dynamic sequence length but a batch that must be 2 or more: not
	// batchable by Triton, so full dims with -1.
	gap := &enginepb.Manifest{
		Target:   "tensorrt",
		Inputs:   []*enginepb.TensorDesc{desc("tokens", tensor.Int32, -1, -1)},
		Outputs:  []*enginepb.TensorDesc{desc("hidden", tensor.Float16, -1, -1, 768)},
		Profiles: []*enginepb.OptimizationProfile{profile("tokens", []int64{2, 1}, []int64{4, 128}, []int64{8, 512})},
	}
	seq := &enginepb.Manifest{
		Target:   "tensorrt",
		Inputs:   []*enginepb.TensorDesc{desc("tokens", tensor.Int32, -1, -1)},
		Outputs:  []*enginepb.TensorDesc{desc("hidden", tensor.Float16, -1, -1, 768)},
		Profiles: []*enginepb.OptimizationProfile{profile("tokens", []int64{1, 1}, []int64{4, 128}, []int64{8, 512})},
	}
	for _, c := range []struct {
		name string
		m    *enginepb.Manifest
		opts Options
	}{
		{"resnet", resnet(), Options{PreferredBatchSizes: []int64{8, 32}, MaxQueueDelayMicroseconds: 100}},
		{"resnet_nobatching", resnet(), Options{NoDynamicBatching: true, Instances: 2, Version: 3}},
		{"static", static, Options{}},
		{"batch_from_2", gap, Options{}},
		{"sequence", seq, Options{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Config(c.name, c.m, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", c.name+".pbtxt"), got)
		})
	}
}

func TestMaxBatch(t *testing.T) {
	m := resnet()
	if got := MaxBatch(m); got != 32 {
		t.Errorf("two profiles 1..16 and 16..32: max batch %d, want 32", got)
	}
	m.Profiles[1].Inputs[0].Min[0] = 20 // a gap 17..19
	if got := MaxBatch(m); got != 16 {
		t.Errorf("gap after 16: max batch %d, want 16", got)
	}
	m = resnet()
	m.Outputs[0].Dims[0] = 1
	if got := MaxBatch(m); got != 0 {
		t.Errorf("static output batch: max batch %d, want 0", got)
	}
	m = resnet()
	m.Profiles = nil
	if got := MaxBatch(m); got != 0 {
		t.Errorf("no profiles: max batch %d, want 0", got)
	}
	m = resnet()
	m.Inputs = append(m.Inputs, desc("scale", tensor.Float32, -1, 1))
	m.Profiles[0].Inputs = append(m.Profiles[0].Inputs, &enginepb.ShapeRange{Input: "scale", Min: []int64{1, 1}, Opt: []int64{4, 1}, Max: []int64{4, 1}})
	if got := MaxBatch(m); got != 4 {
		t.Errorf("second input up to 4: max batch %d, want 4 (the smallest input's reach)", got)
	}
}

func TestValidation(t *testing.T) {
	for _, c := range []struct {
		name, model string
		opts        Options
		want        string
	}{
		{"empty name", "", Options{}, "non-empty directory name"},
		{"path", "a/b", Options{}, "without path separators"},
		{"dotdot", "..", Options{}, "non-empty directory name"},
		{"version", "m", Options{Version: -1}, "version -1"},
		{"instances", "m", Options{Instances: -2}, "instances -2"},
		{"delay", "m", Options{MaxQueueDelayMicroseconds: -5}, "negative"},
		{"preferred", "m", Options{PreferredBatchSizes: []int64{0}}, "preferred batch size 0"},
	} {
		err := c.opts.Validate(c.model)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, diag.InvalidArgument) {
			t.Errorf("%s: got %v, want InvalidArgument with %q", c.name, err, c.want)
		}
	}
	if _, err := Config("m", resnet(), Options{PreferredBatchSizes: []int64{64}}); err == nil || !strings.Contains(err.Error(), "outside the engine's batch range 1..32") {
		t.Errorf("preferred batch above max: %v", err)
	}
	fp8 := &enginepb.Manifest{Inputs: []*enginepb.TensorDesc{desc("q", tensor.FP8E4M3, 4)}}
	if _, err := Config("m", fp8, Options{}); err == nil || !errors.Is(err, diag.TypeMismatch) || !strings.Contains(err.Error(), `input "q"`) {
		t.Errorf("fp8 input: %v", err)
	}
}

func TestWriteRepository(t *testing.T) {
	dir := t.TempDir()
	plan := []byte("not really a plan, but bytes")
	if err := WriteRepository(dir, "resnet", resnet(), plan, Options{}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "resnet", "1", "model.plan"))
	if err != nil || !bytes.Equal(got, plan) {
		t.Fatalf("model.plan: %q, %v", got, err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "resnet", "config.pbtxt"))
	if err != nil || !strings.Contains(string(cfg), `platform: "tensorrt_plan"`) || !strings.Contains(string(cfg), "max_batch_size: 32") {
		t.Fatalf("config.pbtxt: %s, %v", cfg, err)
	}
	// Rewriting replaces the entry.
	if err := WriteRepository(dir, "resnet", resnet(), []byte("v2"), Options{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "resnet", "1", "model.plan")); string(got) != "v2" {
		t.Errorf("rewritten plan: %q", got)
	}
	if err := WriteRepository(dir, "m", resnet(), nil, Options{}); err == nil || !strings.Contains(err.Error(), "plan is empty") {
		t.Errorf("empty plan: %v", err)
	}
	cpu := resnet()
	cpu.Target = "cpu"
	if err := WriteRepository(dir, "m", cpu, plan, Options{}); !errors.Is(err, diag.EngineIncompatible) {
		t.Errorf("cpu engine: %v", err)
	}
	if err := WriteRepository(filepath.Join(dir, "resnet", "config.pbtxt"), "m", resnet(), plan, Options{}); err == nil {
		t.Errorf("repository under a file: no error")
	}
}
