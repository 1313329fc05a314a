package compiler_test

import (
	"path/filepath"
	"testing"

	"github.com/trtc/trtc/internal/conformance"
	"github.com/trtc/trtc/internal/conformance/compiled"
)

// TestConformanceCompiledCPU runs the ONNX backend test data through the
// whole pipeline: import, compiler.Build for the CPU target (every pass,
// verified after each), the engine file's bytes, engine.Load, Execute.
// Every case the plain CPU engine passes must pass here too: a pass that
// changes an answer, or a layer the engine file loses, shows up as a
// failing case. The exclude list is the CPU engine's.
func TestConformanceCompiledCPU(t *testing.T) {
	exclude := filepath.Join("..", "importers", "onnx", "testdata", "conformance_cpu_exclude.txt")
	conformance.Suite(t, exclude, compiled.Runner("cpu"), func(key string, r conformance.Result) {
		t.Errorf("%s: %s", key, r.Detail)
	})
}
