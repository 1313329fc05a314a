package compiler_test

import (
	"context"
	"strings"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/tensor"
)

func run(t *testing.T, net *dsl.Network, cfg compiler.Config, in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, *engine.Plan) {
	t.Helper()
	plan, err := compiler.Build(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	out, err := eng.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out, plan
}

// TestHalfPrecisionWithinTolerance compiles models in fp32, fp16 and bf16
// for the CPU target and checks the half engines agree with the fp32 one
// within the tolerance internal/tolerance states for the type, scaled by
// the longest reduction (k) of the model, and that softmax and
// normalization statistics stay fp32 and the build report says so.
func TestHalfPrecisionWithinTolerance(t *testing.T) {
	for _, tc := range []struct {
		name  string
		net   func(t testing.TB) *dsl.Network
		shape map[string][]int64
		k     int
		kept  []string // reasons that must appear in the report
	}{
		{"mlp", mlp, map[string][]int64{"x": {4, 16}}, 32, []string{"softmax kept in fp32"}},
		{"transformer_block", onnxModel("transformer_block.onnx"), map[string][]int64{"x": {2, 16, 32}}, 64, []string{"normalization statistics kept in fp32"}}, // its softmax is inside the Attention layer the attention pass makes
		{"small_cnn", onnxModel("small_cnn.onnx"), map[string][]int64{"x": {2, 3, 32, 32}}, 144, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := tc.net(t)
			in := irtest.RandomInputs(net, 11, 1)
			for name, s := range tc.shape {
				in[name] = irtest.RandomTensor(randFor(7), net.Inputs()[0].Type(), s)
			}
			cfg := cpuConfig()
			cfg.Profiles = []compiler.Profile{compiler.StaticProfile(tc.shape)}
			want, _ := run(t, net, cfg, in)
			for _, p := range []compiler.Precision{compiler.FP16, compiler.BF16} {
				cfg.Precision = p
				got, plan := run(t, net, cfg, in)
				dt := dsl.Float16
				if p == compiler.BF16 {
					dt = dsl.BFloat16
				}
				if err := compareAs(want, got, dt, tc.k); err != nil {
					t.Errorf("%v: %v", p, err)
				}
				half := 0
				var reasons []string
				for _, l := range plan.Manifest.GetBuild().GetLayers() {
					if l.GetPrecision() == compiler.PrecisionName(dt) {
						half++
					}
					reasons = append(reasons, l.GetPrecisionReason())
				}
				if half == 0 {
					t.Errorf("%v: no layer computes in %v", p, dt)
				}
				for _, k := range tc.kept {
					if !strings.Contains(strings.Join(reasons, "\n"), k) {
						t.Errorf("%v: no layer says %q; reasons: %q", p, k, reasons)
					}
				}
			}
		})
	}
}
