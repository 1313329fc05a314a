package main

import (
	"context"
	"math"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

func TestResNet18Structure(t *testing.T) {
	net, err := buildResNet18(-1, 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[dsl.LayerType]int{}
	for _, l := range net.Layers() {
		counts[l.Type()]++
	}
	// 1 stem + 16 block convolutions + 3 projections = 20 convolutions,
	// each followed by a batch norm folded into one Scale layer.
	if counts[dsl.LayerConvolution] != 20 || counts[dsl.LayerScale] != 20 {
		t.Errorf("convolutions %d, scales %d: want 20 each", counts[dsl.LayerConvolution], counts[dsl.LayerScale])
	}
	if counts[dsl.LayerElementWise] != 9 { // 8 residual adds + the classifier bias
		t.Errorf("elementwise layers %d, want 9", counts[dsl.LayerElementWise])
	}
	if d := net.Output(0).Dims(); !d.Equal(dsl.Dims{-1, 1000}) {
		t.Errorf("logits dims %v, want -1x1000", d)
	}
}

func TestResNet18RunsAndIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ResNet-18 twice on the CPU")
	}
	net, err := buildResNet18(-1, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := cpu.New(net)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]*tensor.Tensor{"image": randomImage(2, 3)}
	a, err := eng.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := eng.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	la, lb := a["logits"].Float32s(), b["logits"].Float32s()
	if len(la) != 20 {
		t.Fatalf("%d logits, want 2x10", len(la))
	}
	spread := 0.0
	for i := range la {
		if math.IsNaN(float64(la[i])) || math.IsInf(float64(la[i]), 0) || la[i] != lb[i] {
			t.Fatalf("logit %d: %v then %v", i, la[i], lb[i])
		}
		spread = math.Max(spread, math.Abs(float64(la[i]-la[0])))
	}
	if spread == 0 {
		t.Fatal("every logit is the same: the network computed nothing useful")
	}
}

// BenchmarkResNet18Batch1 times one batch-1 inference on the CPU engine.
func BenchmarkResNet18Batch1(b *testing.B) {
	net, err := buildResNet18(1, 1000, 42)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := cpu.New(net)
	if err != nil {
		b.Fatal(err)
	}
	in := map[string]*tensor.Tensor{"image": randomImage(1, 7)}
	if _, err := eng.Run(context.Background(), in); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := eng.Run(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResNet18CompiledBatch1 times the same inference through
// compiler.Build (BatchNorm folded, shape arithmetic folded) and an engine
// context on the CPU target.
func BenchmarkResNet18CompiledBatch1(b *testing.B) {
	net, err := buildResNet18(1, 1000, 42)
	if err != nil {
		b.Fatal(err)
	}
	cfg := compiler.DefaultConfig()
	cfg.Target = "cpu"
	plan, err := compiler.Build(net, cfg)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		b.Fatal(err)
	}
	ctx, _ := eng.NewContext()
	in := map[string]*tensor.Tensor{"image": randomImage(1, 7)}
	if _, err := ctx.Execute(context.Background(), in); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := ctx.Execute(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
