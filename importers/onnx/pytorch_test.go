package onnx_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// TestPyTorchExports imports models exported by torch.onnx.export (see
// testdata/pytorch/export.py: a small CNN and a transformer block, both
// with a dynamic batch) and compares the CPU engine with the outputs
// PyTorch computed, at two batch sizes through one imported network.
func TestPyTorchExports(t *testing.T) {
	for _, tc := range []struct {
		name    string
		batches []int
		k       int // the longest accumulation, for the tolerance
	}{
		{"small_cnn", []int{1, 3}, 8 * 9},
		{"transformer_block", []int{1, 2}, 4 * 32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "pytorch")
			net, err := onnx.Import(filepath.Join(dir, tc.name+".onnx"), onnx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := net.Input(0).Dims(); d[0] != -1 {
				t.Errorf("input dims %v: the batch should stay dynamic", d)
			}
			eng, err := cpu.New(net)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range tc.batches {
				x, err := tensor.LoadNPY(filepath.Join(dir, fmt.Sprintf("%s.b%d.input.npy", tc.name, b)))
				if err != nil {
					t.Fatal(err)
				}
				want, err := tensor.LoadNPY(filepath.Join(dir, fmt.Sprintf("%s.b%d.output.npy", tc.name, b)))
				if err != nil {
					t.Fatal(err)
				}
				out, err := eng.Run(t.Context(), map[string]*tensor.Tensor{net.Input(0).Name(): x})
				if err != nil {
					t.Fatalf("batch %d: %v", b, err)
				}
				got := out[net.Output(0).Name()]
				if fmt.Sprint(got.Shape()) != fmt.Sprint(want.Shape()) {
					t.Fatalf("batch %d: shape %v, want %v", b, got.Shape(), want.Shape())
				}
				if err := tolerance.For(tensor.Float32).Scaled(tc.k).Compare(got.Float64s(), want.Float64s()); err != nil {
					t.Errorf("batch %d: %v", b, err)
				}
			}
		})
	}
}
