package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/trtc/trtc/examples/plugin/model"
)

// TestCommittedModelIsGenerated keeps testdata/swiglu.onnx in step with
// model.ONNX (regenerate with go run ./examples/plugin/genmodel).
func TestCommittedModelIsGenerated(t *testing.T) {
	b, err := os.ReadFile("testdata/swiglu.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, model.ONNX()) {
		t.Fatal("testdata/swiglu.onnx differs from model.ONNX(): run go run ./examples/plugin/genmodel")
	}
}

// TestBothNetworksMatchTheReference compiles the DSL and the ONNX network
// for the CPU target and compares them with the model computed with plain
// loops in float64.
func TestBothNetworksMatchTheReference(t *testing.T) {
	for _, batch := range []int64{1, 5} {
		res, err := compute(batch, "cpu")
		if err != nil {
			t.Fatal(err)
		}
		for name, r := range res {
			if len(r.y) != int(batch)*model.Width || r.maxDiff > 1e-5 {
				t.Errorf("batch %d, %s network: %d values, max diff %g", batch, name, len(r.y), r.maxDiff)
			}
		}
	}
}

func TestRunPrints(t *testing.T) {
	var out strings.Builder
	if err := run(&out, 2, "cpu"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"dsl network (target cpu), y[0] = [", "onnx network: max |y - reference| = "} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output %q lacks %q", out.String(), w)
		}
	}
}
