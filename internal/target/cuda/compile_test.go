package cuda

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target"
	"github.com/trtc/trtc/internal/timingcache"
	"github.com/trtc/trtc/tensor"
)

// TestGeneratedKernelsCompile writes the kernels of every ONNX conformance
// model and of the PyTorch exports (dynamic and static shapes) and
// compiles them with NVRTC, which needs no GPU: where NVRTC is installed
// a kernel NVRTC rejects shows up without the GPU machine, and the log
// names the network that took longest. It skips where NVRTC is not
// installed.
func TestGeneratedKernelsCompile(t *testing.T) {
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	type named struct {
		name string
		net  *dsl.Network
	}
	var nets []named
	for _, f := range []string{"tiny_bert.onnx", "small_cnn.onnx", "transformer_block.onnx"} {
		for _, static := range []bool{false, true} {
			net, err := onnx.Import("../../../importers/onnx/testdata/pytorch/"+f, onnx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if static {
				for _, in := range net.Inputs() {
					d := in.Dims()
					for k := range d {
						if d[k] < 0 {
							d[k] = 64 // batch 64: large enough to bake the shapes in
						}
					}
					in.SetDims(d)
				}
			}
			nets = append(nets, named{fmt.Sprintf("%s (static %v)", f, static), net})
		}
	}
	// Channels-last convolutions and max pooling (layout.go).
	cl, _, err := channelsLast(ResidualBlockNet(rand.New(rand.NewPCG(1, 2)), 2, 12))
	if err != nil {
		t.Fatal(err)
	}
	nets = append(nets, named{"residual block, channels last", cl})
	for _, m := range irtest.ConformanceModels(t) {
		nets = append(nets, named{m.Name, m.Net})
	}
	start := time.Now()
	kernels := 0
	var slowest time.Duration // logged, not judged: timings do not fail tests
	slowestName := ""
	for _, n := range nets {
		_, srcs, err := lowerNetwork(n.net, ir.Options{})
		if errors.Is(err, diag.UnsupportedNode) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		t0 := time.Now()
		if _, err := compileKernels(srcs, "sm_80"); err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		if d := time.Since(t0); d > slowest {
			slowest, slowestName = d, n.name
		}
		kernels += len(srcs)
	}
	t.Logf("%d networks, %d kernels written, compiled in %v; the slowest, %s, in %v", len(nets), kernels, time.Since(start), slowestName, slowest)
}

// TestLowerRecordsFusedKernels lowers a network with NVRTC (no GPU) and
// checks what the engine records of its pointwise groups: each layer's
// tactic says which kernel computes it, the launch counts, and a plan that
// decodes with its cubins in the cubin section.
func TestLowerRecordsFusedKernels(t *testing.T) {
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float16, dsl.Dims{64, 1024})
	b := net.AddConstant(dsl.Dims{1, 1024}, dsl.NewWeights(tensor.New(dsl.Float16, 1, 1024)))
	add := net.AddElementWise(x, b.Output(0), dsl.ElementWiseSum)
	add.SetName("bias")
	act := net.AddActivation(add.Output(0), dsl.ActivationGeluTanh)
	act.SetName("gelu")
	act.Output(0).SetName("y")
	net.MarkOutput(act.Output(0))
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	bld := &target.Build{Device: target.Device{Arch: "sm_80"}, TimingCache: timingcache.New()}
	if err := (cudaTarget{}).Lower(ir.New(net), bld); err != nil {
		t.Fatal(err)
	}
	if got, want := bld.Tactics["bias"], "fused into the kernel of gelu"; got != want {
		t.Errorf("the bias add's tactic is %q, want %q", got, want)
	}
	if got := bld.Tactics["gelu"]; got != "kernel, fused with 1 layers before it" {
		t.Errorf("the activation's tactic is %q", got)
	}
	if l, u := bld.Metadata["cuda.launches"], bld.Metadata["cuda.launches_unfused"]; l != "1" || u != "2" {
		t.Errorf("launches %s (%s unfused), want 1 (2)", l, u)
	}
	var planBytes, cubins []byte
	for _, s := range bld.Sections {
		switch s.Name {
		case sectionPlan:
			planBytes = s.Data
		case sectionCubin:
			cubins = s.Data
		}
	}
	p, err := decodePlan(planBytes, len(net.TopoLayers()))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range p.Modules {
		if m.Offset < 0 || m.Offset+m.Length > int64(len(cubins)) {
			t.Errorf("module %+v lies outside the %d-byte cubin section", m, len(cubins))
		}
	}
}

// TestLowerWithoutTimingDevice lowers a matrix multiply where no GPU can
// run the engine being built: the build still succeeds, and says its
// tactics will be timed when the engine first runs.
func TestLowerWithoutTimingDevice(t *testing.T) {
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	if _, err := cuda.NewContext(0); err == nil {
		t.Skip("a GPU is present: the build times its tactics")
	}
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{4, 8})
	w := net.AddConstant(dsl.Dims{8, 2}, dsl.NewWeights(tensor.New(dsl.Float32, 8, 2)))
	y := net.AddMatrixMultiply(x, dsl.MatrixOpNone, w.Output(0), dsl.MatrixOpNone).Output(0)
	y.SetName("y")
	net.MarkOutput(y)
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	bld := &target.Build{Device: target.Device{Arch: "sm_80"}, TimingCache: timingcache.New(), Options: ir.Options{OptLevel: 3}}
	if err := (cudaTarget{}).Lower(ir.New(net), bld); err != nil {
		t.Fatalf("lowering without a GPU to time on: %v", err)
	}
	found := false
	for _, w := range bld.Warnings {
		found = found || strings.Contains(w, "tactics were not timed")
	}
	if !found {
		t.Errorf("no warning that the tactics were not timed: %v", bld.Warnings)
	}
}
