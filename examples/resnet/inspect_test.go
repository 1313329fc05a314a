package main

import (
	"strings"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/internal/golden"
	"github.com/trtc/trtc/internal/inspect"
)

// TestInspectGolden pins what trtc inspect shows for ResNet-18 compiled in
// fp32 and fp16 for the CPU target: layers, fusions, precisions and why.
// UPDATE_GOLDEN=1 rewrites the files.
func TestInspectGolden(t *testing.T) {
	net, err := buildResNet18(-1, 1000, 42)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []compiler.Precision{compiler.FP32, compiler.FP16} {
		cfg := compiler.DefaultConfig()
		cfg.Target, cfg.Precision, cfg.Verify = "cpu", p, true
		cfg.Profiles = []compiler.Profile{{Inputs: []compiler.ShapeRange{{Input: "image", Min: []int64{1, 3, 224, 224}, Opt: []int64{4, 3, 224, 224}, Max: []int64{8, 3, 224, 224}}}}}
		plan, err := compiler.Build(net, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := inspect.Text(&b, "resnet18.engine", 1, plan.Manifest); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, "testdata/inspect_"+p.String()+".golden", golden.Normalize(b.String()))
	}
}
