package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/internal/golden"
)

// TestCompileInspectRunBench goes through the whole command line: compile
// an ONNX model to an engine with a profile, inspect it in every format,
// run it, bench it with JSON output.
func TestCompileInspectRunBench(t *testing.T) {
	eng := filepath.Join(t.TempDir(), "cnn.engine")
	out, err := runCLI(t, "compile", testdata+"small_cnn.onnx", "-o", eng, "--target", "cpu", "--precision", "fp16",
		"--min-shapes", "x:1x3x32x32", "--opt-shapes", "x:4x3x32x32", "--max-shapes", "x:8x3x32x32", "--verbose")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"target:     cpu", "precision:  fp16", "layers:     21 before", "pass fold", "wrote " + eng} {
		if !strings.Contains(out, want) {
			t.Errorf("compile summary lacks %q:\n%s", want, out)
		}
	}
	text, err := runCLI(t, "inspect", eng)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/inspect_small_cnn_fp16.golden", golden.Normalize(strings.ReplaceAll(text, filepath.Base(eng), "cnn.engine")))
	js, err := runCLI(t, "inspect", eng, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil || m["target"] != "cpu" || m["build"] == nil {
		t.Errorf("inspect json: %v\n%.400s", err, js)
	}
	dot, err := runCLI(t, "inspect", eng, "--format", "dot")
	if err != nil || !strings.HasPrefix(dot, "digraph") || !strings.Contains(dot, "fp16") {
		t.Errorf("inspect dot: %v\n%.400s", err, dot)
	}
	out, err = runCLI(t, "run", eng, "--iterations", "1", "--output-dir", filepath.Join(t.TempDir(), "o"))
	if err != nil || !strings.Contains(out, "output y: float32 [4 10]") {
		t.Errorf("run engine (%v):\n%s", err, out)
	}
	out, err = runCLI(t, "bench", eng, "--iterations", "5", "--duration", "10ms", "--warmup", "1ms", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var r benchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Iterations < 5 || r.MinMs <= 0 || r.MinMs > r.MedianMs || r.MedianMs > r.MaxMs || r.P99Ms > r.MaxMs {
		t.Errorf("bench json (%v): %+v", err, r)
	}
	if _, err := runCLI(t, "bench", eng, "--use-cuda-graph"); err == nil || !strings.Contains(err.Error(), "needs a GPU target") {
		t.Errorf("--use-cuda-graph on cpu: %v", err)
	}
}

func TestCompareTargets(t *testing.T) {
	out, err := runCLI(t, "compare", testdata+"transformer_block.onnx", "--targets", "cpu:fp32,cpu:fp16", "--shapes", "x:2x16x32", "--mark-all")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"cpu:fp32", "cpu:fp16", "PASS", "every intermediate tensor is within tolerance"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare lacks %q:\n%s", want, out)
		}
	}
	// A tolerance nobody meets makes it fail and name the first layer.
	out, err = runCLI(t, "compare", testdata+"transformer_block.onnx", "--targets", "cpu:fp16", "--shapes", "x:2x16x32", "--mark-all", "--atol", "0", "--rtol", "0")
	if err == nil || !strings.Contains(out, "FAIL") || !strings.Contains(out, "first layer that diverges:") {
		t.Errorf("zero tolerance (%v):\n%s", err, out)
	}
	// Against a reference directory: PyTorch's own output.
	dir := t.TempDir()
	data, _ := os.ReadFile(testdata + "small_cnn.b3.output.npy")
	os.WriteFile(filepath.Join(dir, "y.npy"), data, 0o644)
	out, err = runCLI(t, "compare", testdata+"small_cnn.onnx", "--targets", "cpu", "--shapes", "x:3x3x32x32",
		"--input", "x="+testdata+"small_cnn.b3.input.npy", "--reference", dir, "--atol", "1e-4")
	if err != nil || !strings.Contains(out, "PASS") {
		t.Errorf("against PyTorch (%v):\n%s", err, out)
	}
}

func TestExitCodes(t *testing.T) {
	if c := exitCode(errors.New("plain")); c != 1 {
		t.Errorf("plain error: %d", c)
	}
	if c := exitCode(diag.Errorf(diag.ShapeMismatch, "x")); c != 1 {
		t.Errorf("user error: %d", c)
	}
	if c := exitCode(diag.Errorf(diag.Internal, "bug")); c != 2 {
		t.Errorf("internal error: %d", c)
	}
	if c := Main([]string{"compile", testdata + "small_cnn.onnx"}); c != 1 {
		t.Errorf("compile without -o exits %d", c)
	}
	if c := Main([]string{"version"}); c != 0 {
		t.Errorf("version exits %d", c)
	}
}

func TestCompileFlagErrors(t *testing.T) {
	eng := filepath.Join(t.TempDir(), "x.engine")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--precision", "fp8"}, "unknown precision"},
		{[]string{"--min-shapes", "x:1x3x32x32"}, "needs both --min-shapes and --max-shapes"},
		{[]string{"--profile", "x:1x3x32x32"}, "want name:MIN:OPT:MAX"},
		{[]string{"--shapes", "x:64x3x32"}, "must have the input's rank 4"},
		{[]string{"--target", "tensorrt", "--shapes", "x:1x3x32x32"}, "rebuild with -tags tensorrt"},
		{[]string{"--opt-level", "7", "--shapes", "x:1x3x32x32"}, "optimization level 7 is out of range"},
		{[]string{"--layer-precision", "nope:fp16", "--shapes", "x:1x3x32x32"}, `"nope"`},
	} {
		_, err := runCLI(t, append([]string{"compile", testdata + "small_cnn.onnx", "-o", eng}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
}
