package compiler_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/dsl/nn"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// mlp builds x[-1,16] -> Linear(32) -> ReLU -> Linear(8) -> SoftMax.
func mlp(t testing.TB) *dsl.Network {
	rng := rand.New(rand.NewPCG(1, 2))
	w := func(shape ...int64) dsl.Weights {
		x := irtest.RandomTensor(rng, dsl.Float32, shape)
		return dsl.NewWeights(x)
	}
	net := dsl.NewNetwork()
	net.SetName("mlp")
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 16})
	h := nn.Linear(net, x, w(32, 16), w(32))
	h = net.AddActivation(h, dsl.ActivationReLU).Output(0)
	y := nn.Linear(net, h, w(8, 32), w(8))
	sm := net.AddSoftMax(y)
	sm.SetAxes(1 << 1)
	out := sm.Output(0)
	out.SetName("probs")
	net.MarkOutput(out)
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	return net
}

func batchProfile(lo, opt, hi int64) compiler.Profile {
	return compiler.Profile{Inputs: []compiler.ShapeRange{{Input: "x", Min: []int64{lo, 16}, Opt: []int64{opt, 16}, Max: []int64{hi, 16}}}}
}

func cpuConfig() compiler.Config {
	c := compiler.DefaultConfig()
	c.Target = "cpu"
	c.Verify = true
	return c
}

func TestBuildLoadExecuteMatchesTheNetwork(t *testing.T) {
	net := mlp(t)
	cfg := cpuConfig()
	cfg.Profiles = []compiler.Profile{batchProfile(1, 4, 32)}
	plan, err := compiler.Build(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if got := eng.Target(); got != "cpu" {
		t.Errorf("target %q, want cpu", got)
	}
	if in := eng.Inputs(); len(in) != 1 || in[0].Name != "x" || in[0].DType != tensor.Float32 {
		t.Errorf("inputs %+v", in)
	}
	ctx, err := eng.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	for _, batch := range []int64{1, 7, 32} {
		in := irtest.RandomInputs(net, uint64(batch), batch)
		want, err := cpu.Run(net, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ctx.Execute(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if err := irtest.Compare(want, got, 32); err != nil {
			t.Errorf("batch %d: %v", batch, err)
		}
	}
}

func TestProfileErrorsNameInputAndBounds(t *testing.T) {
	net := mlp(t)
	_, err := compiler.Build(net, cpuConfig())
	if !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), `input "x" has dynamic dims -1x16 but no optimization profile`) {
		t.Errorf("no profile: got %v", err)
	}

	for _, tc := range []struct {
		p    compiler.Profile
		want string
	}{
		{batchProfile(4, 2, 8), "dimension 0: min 4, opt 2, max 8"},
		{compiler.Profile{Inputs: []compiler.ShapeRange{{Input: "x", Min: []int64{1, 8}, Opt: []int64{1, 8}, Max: []int64{1, 8}}}}, "dimension 1 is fixed at 16"},
		{compiler.Profile{Inputs: []compiler.ShapeRange{{Input: "y", Min: []int64{1}, Opt: []int64{1}, Max: []int64{1}}}}, `"y", which is not a network input`},
		{compiler.Profile{Inputs: []compiler.ShapeRange{{Input: "x", Min: []int64{1}, Opt: []int64{1}, Max: []int64{1}}}}, "must have the input's rank 2"},
	} {
		cfg := cpuConfig()
		cfg.Profiles = []compiler.Profile{tc.p}
		if _, err := compiler.Build(net, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("profile %+v: got %v, want %q", tc.p, err, tc.want)
		}
	}

	cfg := cpuConfig()
	cfg.Profiles = []compiler.Profile{batchProfile(1, 16, 32)}
	plan, err := compiler.Build(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	ctx, _ := eng.NewContext()
	x := tensor.New(tensor.Float32, 64, 16)
	_, err = ctx.Execute(context.Background(), map[string]*tensor.Tensor{"x": x})
	if !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), `input "x": shape 64x16 is outside optimization profile 0 (min 1x16, max 32x16)`) {
		t.Errorf("shape outside the profile: got %v", err)
	}
	_, err = ctx.Execute(context.Background(), map[string]*tensor.Tensor{"y": x})
	if err == nil || !strings.Contains(err.Error(), `input "x" (float32 -1x16) is missing`) || !strings.Contains(err.Error(), `"y" is not an input of the engine`) {
		t.Errorf("wrong names: got %v", err)
	}
	if err := ctx.SetOptimizationProfile(1); err == nil || !strings.Contains(err.Error(), "profile 1 does not exist") {
		t.Errorf("SetOptimizationProfile(1): %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	net := mlp(t)
	for _, tc := range []struct {
		edit func(*compiler.Config)
		code diag.Code
		want string
	}{
		{func(c *compiler.Config) { c.Target = "tpu" }, diag.InvalidArgument, `unknown target "tpu"`},
		{func(c *compiler.Config) { c.Target = "tensorrt" }, diag.NoDevice, "built without TensorRT support; rebuild with -tags tensorrt"},
		{func(c *compiler.Config) { c.OptLevel = 9 }, diag.InvalidArgument, "optimization level 9 is out of range"},
		{func(c *compiler.Config) { c.WorkspaceLimit = -1 }, diag.InvalidArgument, "workspace limit -1 is negative"},
		{func(c *compiler.Config) { c.LayerPrecisions = map[string]compiler.Precision{"a": compiler.TF32} }, diag.InvalidArgument, `layer "a": precision tf32 cannot be set per layer`},
	} {
		cfg := cpuConfig()
		cfg.Profiles = []compiler.Profile{batchProfile(1, 1, 1)}
		tc.edit(&cfg)
		_, err := compiler.Build(net, cfg)
		if !errors.Is(err, tc.code) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %v %q", err, tc.code, tc.want)
		}
	}
	if _, err := compiler.ParsePrecision("fp8"); err == nil || !strings.Contains(err.Error(), "fp32, tf32, fp16, bf16") {
		t.Errorf("ParsePrecision(fp8): %v", err)
	}
}

func TestAutoPicksAnAvailableTarget(t *testing.T) {
	cfg := compiler.DefaultConfig()
	cfg.Profiles = []compiler.Profile{batchProfile(1, 1, 2)}
	plan, err := compiler.Build(mlp(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Manifest.GetTarget() == "" {
		t.Fatal("no target recorded")
	}
	// This binary has no TensorRT target: auto must say it passed it over.
	found := false
	for _, w := range plan.Manifest.GetBuild().GetWarnings() {
		found = found || strings.Contains(w, "tensorrt: not in this build")
	}
	if !found {
		t.Errorf("warnings %q do not say why tensorrt was passed over", plan.Manifest.GetBuild().GetWarnings())
	}
}

func onnxModel(file string) func(t testing.TB) *dsl.Network {
	return func(t testing.TB) *dsl.Network {
		net, err := onnx.Import("../importers/onnx/testdata/pytorch/"+file, onnx.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return net
	}
}

func randFor(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }

// compareAs compares outputs with the tolerance of computing in dt,
// scaled by the longest reduction k.
func compareAs(want, got map[string]*tensor.Tensor, dt dsl.DataType, k int) error {
	tol := tolerance.For(dt).Scaled(k)
	for name, w := range want {
		g := got[name]
		if g == nil {
			return fmt.Errorf("output %q missing", name)
		}
		if err := tol.Compare(g.Float64s(), w.Float64s()); err != nil {
			return fmt.Errorf("output %q: %v", name, err)
		}
	}
	return nil
}
