package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestInspectFormats(t *testing.T) {
	model := testdata + "small_cnn.onnx"
	text, err := runCLI(t, "inspect", model)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"input  x (float32 -1x3x32x32)", "output y (float32 -1x10)", "Convolution 2", "Pooling"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	js, err := runCLI(t, "inspect", model, "--format", "json", "--shapes", "x:2x3x32x32")
	if err != nil {
		t.Fatal(err)
	}
	var info networkInfo
	if err := json.Unmarshal([]byte(js), &info); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, js)
	}
	if len(info.Inputs) != 1 || info.Inputs[0].Dims[0] != 2 || info.Kinds["Convolution"] != 2 || len(info.Layers) == 0 {
		t.Errorf("unexpected description: %+v", info)
	}
	dot, err := runCLI(t, "inspect", model, "--format", "dot")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dot, "digraph") || !strings.Contains(dot, "-> out_y") {
		t.Errorf("dot output wrong:\n%s", dot)
	}
	if _, err := runCLI(t, "inspect", model, "--format", "yaml"); err == nil {
		t.Error("an unknown format was accepted")
	}
}

func TestInspectSVG(t *testing.T) {
	out := t.TempDir() + "/cnn.svg"
	_, err := runCLI(t, "inspect", testdata+"small_cnn.onnx", "--svg", out)
	if _, lookErr := exec.LookPath("dot"); lookErr != nil {
		if err == nil || !strings.Contains(err.Error(), "apt-get install graphviz") {
			t.Errorf("without Graphviz: %v", err)
		}
		t.Skip("Graphviz's dot is not installed; checked the error only")
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("no SVG written: %v", err)
	}
}
