package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

const testdata = "../../../importers/onnx/testdata/pytorch/"

// TestRunMatchesPyTorch runs the exported CNN on the input PyTorch used and
// compares the saved output with PyTorch's.
func TestRunMatchesPyTorch(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI(t, "run", testdata+"small_cnn.onnx", "--shapes", "x:3x3x32x32",
		"--input", "x="+testdata+"small_cnn.b3.input.npy", "--save-outputs", dir, "--iterations", "2")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "output y: float32 [3 10]") || !strings.Contains(out, "latency over 2 runs") {
		t.Errorf("unexpected report:\n%s", out)
	}
	got, err := tensor.LoadNPY(filepath.Join(dir, "y.npy"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := tensor.LoadNPY(testdata + "small_cnn.b3.output.npy")
	if err != nil {
		t.Fatal(err)
	}
	if err := tolerance.For(tensor.Float32).Scaled(72).Compare(got.Float64s(), want.Float64s()); err != nil {
		t.Fatal(err)
	}
}

func TestRunDefaultsDynamicDimsToOne(t *testing.T) {
	out, err := runCLI(t, "run", testdata+"transformer_block.onnx", "--iterations", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "building for 1x16x32") || !strings.Contains(out, "output y: float32 [1 16 32]") {
		t.Errorf("unexpected report:\n%s", out)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--shapes", "x=1x3"}, "want name:dims"},
		{[]string{"--shapes", "nope:1x3x32x32"}, `"nope", which is not a network input`},
		{[]string{"--shapes", "x:1x-3x32x32"}, "is not a dimension"},
		{[]string{"--input", "x"}, "want name=file.npy"},
		{[]string{"--input", "x=/does/not/exist.npy"}, "exist.npy"},
		{[]string{"--iterations", "0"}, "at least 1"},
	} {
		_, err := runCLI(t, append([]string{"run", testdata + "small_cnn.onnx"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	if _, err := runCLI(t, "run", "/no/such/model.onnx"); err == nil {
		t.Error("a missing model file was accepted")
	}
}
