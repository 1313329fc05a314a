package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/trtc/trtc/cmd/trtc/cli"
)

// TestCustomBinaryRunsThePlugin compiles and runs the ONNX model with the
// custom-domain SwiGLU node through the CLI of this custom build, then
// compiles an engine and runs it from the file.
func TestCustomBinaryRunsThePlugin(t *testing.T) {
	model := filepath.Join("..", "testdata", "swiglu.onnx")
	if code := cli.Main([]string{"run", model, "--shapes", "x:4x8", "--iterations", "1"}); code != 0 {
		t.Fatalf("trtc run exited %d", code)
	}
	eng := filepath.Join(t.TempDir(), "swiglu.engine")
	if code := cli.Main([]string{"compile", model, "-o", eng, "--target", "cpu", "--shapes", "x:4x8"}); code != 0 {
		t.Fatalf("trtc compile exited %d", code)
	}
	if code := cli.Main([]string{"run", eng, "--iterations", "1"}); code != 0 {
		t.Fatalf("trtc run of the engine exited %d", code)
	}
}

func TestOpsListsThePlugin(t *testing.T) {
	var out strings.Builder
	if code := cli.MainTo(&out, []string{"ops"}); code != 0 || !strings.Contains(out.String(), "SwiGLU") {
		t.Errorf("trtc ops (exit %d) does not list SwiGLU:\n%.300s", code, out.String())
	}
}
