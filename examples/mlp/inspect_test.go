package main

import (
	"strings"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/internal/golden"
	"github.com/trtc/trtc/internal/inspect"
)

// TestInspectGolden pins what trtc inspect shows for the MLP compiled in
// fp32 and bf16 for the CPU target. UPDATE_GOLDEN=1 rewrites the files.
func TestInspectGolden(t *testing.T) {
	net, err := buildMLP(randomWeights(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []compiler.Precision{compiler.FP32, compiler.BF16} {
		cfg := compiler.DefaultConfig()
		cfg.Target, cfg.Precision, cfg.Verify = "cpu", p, true
		cfg.Profiles = []compiler.Profile{{Inputs: []compiler.ShapeRange{{Input: "x", Min: []int64{1, 784}, Opt: []int64{8, 784}, Max: []int64{64, 784}}}}}
		plan, err := compiler.Build(net, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := inspect.Text(&b, "mlp.engine", 1, plan.Manifest); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, "testdata/inspect_"+p.String()+".golden", golden.Normalize(b.String()))
	}
}
