package cuda

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/target"
	"github.com/trtc/trtc/internal/timingcache"
	"github.com/trtc/trtc/tensor"
)

// headsNet is multi-head self-attention as PyTorch exports it, after the
// attention pass: x [2, 37, 4·64] reshaped to [B, S, H, D] and transposed
// to [B, H, S, D] for Q, K and V, Q scaled by 1/8, an additive mask, and
// the output transposed back and reshaped to [2, 37, 256].
func headsNet(dt dsl.DataType) (*dsl.Network, *dsl.AttentionLayer) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dt, dsl.Dims{2, 37, 256})
	heads := func(name string) *dsl.Tensor {
		r := n.AddShuffle(x)
		r.SetReshapeDimensions(dsl.Dims{2, 37, 4, 64})
		r.SetName(name + "/reshape")
		tr := n.AddShuffle(r.Output(0))
		tr.SetFirstTranspose(headTranspose)
		tr.SetName(name + "/transpose")
		return tr.Output(0)
	}
	w, _ := tensor.FromFloat32([]int64{1, 1, 1, 1}, []float32{0.125})
	if dt != dsl.Float32 {
		w, _ = w.Convert(dt)
	}
	c := n.AddConstant(dsl.Dims{1, 1, 1, 1}, dsl.NewWeights(w))
	q := n.AddElementWise(heads("q"), c.Output(0), dsl.ElementWiseProd)
	q.SetName("q/scaled")
	a := n.AddAttention(q.Output(0), heads("k"), heads("v"), dsl.AttentionNormSoftmax, false)
	a.SetMask(n.AddInput("mask", dt, dsl.Dims{2, 1, 1, 37}))
	back := n.AddShuffle(a.Output(0))
	back.SetFirstTranspose(headTranspose)
	back.SetName("out/transpose")
	y := n.AddShuffle(back.Output(0))
	y.SetReshapeDimensions(dsl.Dims{2, 37, 256})
	y.Output(0).SetName("y")
	n.MarkOutput(y.Output(0))
	return n, a
}

// TestHeadTransposesFoldIntoAttention lowers headsNet: the attention step
// reads x through the three transposes, applies the scale and writes
// through the output's transpose, which all become fused steps; the
// kernel compiles. In float32 (the general kernel) nothing folds.
func TestHeadTransposesFoldIntoAttention(t *testing.T) {
	net, a := headsNet(dsl.Float16)
	p, srcs, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layers := net.TopoLayers()
	i := slices.Index(layers, dsl.Layer(a))
	s := p.Steps[i]
	if len(s.Views) != 3 || slices.Contains(s.Views, 0) || s.Scale == 0 || s.Epilogue == 0 {
		t.Fatalf("attention step %+v: want three views, the scale and the output transpose folded", s)
	}
	for _, v := range append(slices.Clone(s.Views), s.Scale, s.Epilogue) {
		if f := p.Steps[v-1]; f.Kind != kindFused || f.Into != i {
			t.Errorf("step %d (%s) is %q into %d, want fused into the attention", v-1, dsl.LayerString(layers[v-1]), f.Kind, f.Into)
		}
	}
	reads := stepReads(layers, p, regionsOfPlan(layers, p))[i]
	for j, name := range []string{"q/reshape", "k/reshape", "v/reshape"} {
		if p, _ := reads[j].Producer(); p == nil || p.Name() != name {
			t.Errorf("the attention reads %v for operand %d, want %s's output", reads[j], j, name)
		}
	}
	if len(reads) != 4 || reads[3] != a.Mask() {
		t.Errorf("the attention reads %v, want the three reshapes and the mask", reads)
	}
	if w := stepWrites(layers, p, regionsOfPlan(layers, p))[i]; len(w) != 1 || w[0] == a.Output(0) {
		t.Errorf("the attention writes %v, want the output transpose's tensor", w)
	}
	src := srcs[s.Kernel]
	if !strings.Contains(src, "const i64 qrs = 1 ?") || !strings.Contains(src, "__int_as_float(0x3e000000)") {
		t.Errorf("the kernel does not read [B, S, H, D] with the scale 0.125:\n%s", src)
	}
	if fused, unfused := p.launches(layers); unfused-fused != 5 {
		t.Errorf("%d launches fused, %d unfused: want 5 fewer", fused, unfused)
	}
	if b, err := json.Marshal(p); err != nil {
		t.Fatal(err)
	} else if _, err := decodePlan(b, len(layers)); err != nil {
		t.Errorf("the plan does not validate: %v", err)
	}
	compileWithNVRTC(t, map[string]string{s.Kernel: src})
	if _, _, err := cuda.NVRTCVersion(); err == nil {
		bld := &target.Build{Device: target.Device{Arch: "sm_80"}, TimingCache: timingcache.New()}
		if err := (cudaTarget{}).Lower(ir.New(net), bld); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]string{"q/transpose": "a head transpose", "out/transpose": "a head transpose", "q/scaled": "applied to the scores"} {
			if got := bld.Tactics[name]; !strings.HasPrefix(got, want) {
				t.Errorf("%s's tactic is %q, want %q...", name, got, want)
			}
		}
	}

	net32, a32 := headsNet(dsl.Float32)
	p32, _, err := lowerNetwork(net32, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := p32.Steps[slices.Index(net32.TopoLayers(), dsl.Layer(a32))]; len(s.Views) > 0 || s.Scale > 0 || s.Epilogue > 0 {
		t.Errorf("float32 attention folds %+v, want nothing (the general kernel reads [B, H, S, D])", s)
	}
}
