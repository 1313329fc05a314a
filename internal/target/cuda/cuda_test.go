package cuda_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/dsl/nn"
	"github.com/trtc/trtc/engine"
	swigluModel "github.com/trtc/trtc/examples/plugin/model"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/internal/conformance"
	"github.com/trtc/trtc/internal/conformance/compiled"
	gpu "github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/dsltest"
	"github.com/trtc/trtc/internal/enginetest"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target"
	cudatarget "github.com/trtc/trtc/internal/target/cuda"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// needGPU skips the test where the CUDA target cannot run, after checking
// that it says why with NoDevice.
func needGPU(t *testing.T) {
	t.Helper()
	tg, ok := target.Lookup("cuda")
	if !ok {
		t.Fatal("the cuda target is not registered")
	}
	if _, err := tg.Probe(); err != nil {
		if !errors.Is(err, diag.NoDevice) {
			t.Fatalf("Probe without a GPU: want NoDevice, got %v", err)
		}
		t.Skipf("no GPU: %v", err)
	}
}

func build(t *testing.T, net *dsl.Network, tgt string, prec compiler.Precision, shapes map[string][]int64) *engine.Engine {
	t.Helper()
	cfg := compiler.DefaultConfig()
	cfg.Target, cfg.Precision, cfg.Verify = tgt, prec, true
	if len(shapes) > 0 {
		cfg.Profiles = []compiler.Profile{compiler.StaticProfile(shapes)}
	}
	return buildConfig(t, net, cfg)
}

// buildConfig builds net with cfg and loads the engine.
func buildConfig(t *testing.T, net *dsl.Network, cfg compiler.Config) *engine.Engine {
	t.Helper()
	plan, err := compiler.Build(net, cfg)
	if err != nil {
		t.Fatalf("build for %s: %v", cfg.Target, err)
	}
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		t.Fatalf("load for %s: %v", cfg.Target, err)
	}
	return eng
}

func execute(t *testing.T, eng *engine.Engine, in map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	t.Helper()
	out, err := eng.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareTargets builds net for cpu and cuda and compares on random inputs
// within the tolerance of dt scaled by k.
func compareTargets(t *testing.T, net *dsl.Network, shapes map[string][]int64, prec compiler.Precision, dt dsl.DataType, k int) {
	t.Helper()
	in := map[string]*tensor.Tensor{}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, x := range net.Inputs() {
		s, ok := shapes[x.Name()]
		if !ok {
			s = x.Dims()
		}
		in[x.Name()] = irtest.RandomTensor(rng, x.Type(), s)
	}
	cpuEng := build(t, net, "cpu", prec, shapes)
	defer cpuEng.Close()
	gpuEng := build(t, net, "cuda", prec, shapes)
	defer gpuEng.Close()
	compareOutputs(t, execute(t, cpuEng, in), execute(t, gpuEng, in), tolerance.For(dt).Scaled(k))
}

// compareOutputs checks got has want's outputs, shapes and types, with
// values within tol.
func compareOutputs(t *testing.T, want, got map[string]*tensor.Tensor, tol tolerance.Tol) {
	t.Helper()
	for name, w := range want {
		g := got[name]
		if g == nil || fmt.Sprint(g.Shape()) != fmt.Sprint(w.Shape()) || g.DType() != w.DType() {
			t.Fatalf("output %q: got %v, want %v %v", name, g, w.DType(), w.Shape())
		}
		if err := tol.Compare(g.Float64s(), w.Float64s()); err != nil {
			t.Errorf("output %q: %v", name, err)
		}
	}
}

func weights(rng *rand.Rand, shape ...int64) dsl.Weights {
	return dsl.NewWeights(irtest.RandomTensor(rng, dsl.Float32, shape))
}

// TestLayersAgainstCPU runs each layer family the CUDA target has kernels
// for, and some it runs on the host, against the CPU engine.
func TestLayersAgainstCPU(t *testing.T) {
	needGPU(t)
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []layerCase{
		{"elementwise-broadcast", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			c := n.AddConstant(dsl.Dims{1, 8, 1, 1}, weights(rng, 1, 8, 1, 1)).Output(0)
			y := n.AddElementWise(x, c, dsl.ElementWiseProd).Output(0)
			y = n.AddElementWise(y, x, dsl.ElementWiseSub).Output(0)
			return n.AddElementWise(y, c, dsl.ElementWiseMax).Output(0)
		}, dsl.Dims{2, 8, 5, 5}, 1},
		{"unary-activation", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			y := n.AddActivation(x, dsl.ActivationGeluErf).Output(0)
			y = n.AddUnary(y, dsl.UnaryExp).Output(0)
			y = n.AddActivation(y, dsl.ActivationSigmoid).Output(0)
			return n.AddUnary(y, dsl.UnarySqrt).Output(0)
		}, dsl.Dims{3, 7, 11}, 4},
		{"cast-compare-select", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			z := n.AddConstant(dsl.Dims{1, 1}, dsl.Float32Weights(0)).Output(0)
			c := n.AddElementWise(x, z, dsl.ElementWiseGreater).Output(0)
			h := n.AddCast(x, dsl.Float16).Output(0)
			h = n.AddCast(h, dsl.Float32).Output(0)
			i := n.AddCast(n.AddElementWise(x, n.AddConstant(dsl.Dims{1, 1}, dsl.Float32Weights(10)).Output(0), dsl.ElementWiseProd).Output(0), dsl.Int32).Output(0)
			return n.AddSelect(c, h, n.AddCast(i, dsl.Float32).Output(0)).Output(0)
		}, dsl.Dims{16, 33}, 1},
		{"reduce-softmax", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			s := n.AddSoftMax(x)
			s.SetAxes(1 << 1)
			r := n.AddReduce(s.Output(0), dsl.ReduceSum, 1<<2, true).Output(0)
			m := n.AddReduce(x, dsl.ReduceMax, 1<<2, true).Output(0)
			return n.AddElementWise(r, m, dsl.ElementWiseSum).Output(0)
		}, dsl.Dims{4, 300, 9}, 300},
		{"transpose-reshape-concat-slice", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			s := n.AddShuffle(x)
			s.SetFirstTranspose(dsl.Permutation{0, 2, 1})
			s.SetReshapeDimensions(dsl.Dims{6, 20})
			y := n.AddConcatenation([]*dsl.Tensor{s.Output(0), s.Output(0)})
			y.SetAxis(1)
			return n.AddSlice(y.Output(0), dsl.Dims{1, 3}, dsl.Dims{4, 15}, dsl.Dims{1, 2}).Output(0)
		}, dsl.Dims{6, 4, 5}, 1},
		{"matmul-batched", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			w := n.AddConstant(dsl.Dims{1, 32, 16}, weights(rng, 1, 32, 16)).Output(0)
			y := n.AddMatrixMultiply(x, dsl.MatrixOpNone, w, dsl.MatrixOpNone).Output(0)
			return n.AddMatrixMultiply(y, dsl.MatrixOpTranspose, y, dsl.MatrixOpNone).Output(0)
		}, dsl.Dims{3, 10, 32}, 64},
		{"conv-pool", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			c := n.AddConvolutionNd(x, 16, dsl.Dims{3, 3}, weights(rng, 16, 4, 3, 3), weights(rng, 16))
			c.SetPaddingNd(dsl.Dims{1, 1})
			c.SetStrideNd(dsl.Dims{2, 2})
			g := n.AddConvolutionNd(c.Output(0), 16, dsl.Dims{3, 3}, weights(rng, 16, 4, 3, 3), dsl.Weights{})
			g.SetNbGroups(4)
			g.SetDilationNd(dsl.Dims{2, 2})
			g.SetPaddingNd(dsl.Dims{2, 2})
			p := n.AddPoolingNd(n.AddActivation(g.Output(0), dsl.ActivationReLU).Output(0), dsl.PoolingAverage, dsl.Dims{3, 3})
			p.SetPaddingNd(dsl.Dims{1, 1})
			return n.AddPoolingNd(p.Output(0), dsl.PoolingMax, dsl.Dims{2, 2}).Output(0)
		}, dsl.Dims{2, 4, 17, 17}, 144},
		{"layernorm-gather", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			g := n.AddConstant(dsl.Dims{1, 1, 24}, weights(rng, 1, 1, 24)).Output(0)
			b := n.AddConstant(dsl.Dims{1, 1, 24}, weights(rng, 1, 1, 24)).Output(0)
			y := n.AddNormalization(x, g, b, 1<<2).Output(0)
			idx := n.AddConstant(dsl.Dims{3}, dsl.Int32Weights(2, 0, 2)).Output(0)
			return n.AddGather(y, idx, 1).Output(0)
		}, dsl.Dims{2, 5, 24}, 24},
		{"slice-tensor-params", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			half := n.AddElementWise(n.AddShape(x).Output(0), n.AddConstant(dsl.Dims{2}, dsl.Int64Weights(2, 2)).Output(0), dsl.ElementWiseFloorDiv).Output(0)
			sl := n.AddSlice(x, nil, nil, nil)
			sl.SetInput(1, n.AddConstant(dsl.Dims{2}, dsl.Int64Weights(1, 7)).Output(0))
			sl.SetInput(2, half)
			sl.SetInput(3, n.AddConstant(dsl.Dims{2}, dsl.Int64Weights(1, -1)).Output(0))
			return sl.Output(0)
		}, dsl.Dims{6, 8}, 1},
		{"wide-bias-layernorm-softmax", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			b := n.AddConstant(dsl.Dims{1, 1, 1000}, weights(rng, 1, 1, 1000)).Output(0)
			y := n.AddElementWise(x, b, dsl.ElementWiseSum).Output(0)
			g := n.AddConstant(dsl.Dims{1, 1, 1000}, weights(rng, 1, 1, 1000)).Output(0)
			y = n.AddNormalization(y, g, b, 1<<2).Output(0)
			return n.AddSoftMax(y).Output(0)
		}, dsl.Dims{3, 37, 1000}, 1000},
		{"host-topk", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			return n.AddTopK(n.AddUnary(x, dsl.UnaryAbs).Output(0), dsl.TopKMax, 3, 1<<1).Output(0)
		}, dsl.Dims{4, 10}, 1},
	}
	runLayerCases(t, cases)
}

// layerCase is a network built on one float32 input x of dims, compared
// across targets with a tolerance for reductions of k terms.
type layerCase struct {
	name  string
	build func(net *dsl.Network, x *dsl.Tensor) *dsl.Tensor
	dims  dsl.Dims
	k     int
}

// runLayerCases compares each case's network on the CPU and CUDA targets
// in fp32 and fp16.
func runLayerCases(t *testing.T, cases []layerCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net := dsl.NewNetwork()
			x := net.AddInput("x", dsl.Float32, c.dims)
			y := c.build(net, x)
			y.SetName("y")
			net.MarkOutput(y)
			if err := net.Err(); err != nil {
				t.Fatal(err)
			}
			compareTargets(t, net, nil, compiler.FP32, dsl.Float32, c.k)
			compareTargets(t, net, nil, compiler.FP16, dsl.Float16, c.k)
		})
	}
}

// TestEveryLayerKindAgainstCPU builds the dsltest networks, which together
// use every layer kind of the DSL, for the CPU and CUDA targets in fp32,
// fp16 and bf16 and compares their outputs on random inputs. Networks the
// CUDA target refuses (dims that depend on data it cannot read back) are
// listed, not failed; every other layer kind must agree, run on the GPU or
// on the host.
func TestEveryLayerKindAgainstCPU(t *testing.T) {
	needGPU(t)
	networks := dsltest.Networks()
	names := make([]string, 0, len(networks))
	for n := range networks {
		names = append(names, n)
	}
	sort.Strings(names)
	ran := map[dsl.LayerType]bool{}
	var refused []string
	for i, name := range names {
		for _, p := range []struct {
			prec compiler.Precision
			dt   dsl.DataType
		}{{compiler.FP32, dsl.Float32}, {compiler.FP16, dsl.Float16}, {compiler.BF16, dsl.BFloat16}} {
			t.Run(fmt.Sprintf("%s/%v", name, p.prec), func(t *testing.T) {
				net := networks[name](rand.New(rand.NewPCG(uint64(i), 11)))
				for _, l := range net.Layers() {
					if l.Type() == dsl.LayerPlugin {
						// Its plugin is no registered one, so engines of it
						// do not load; TestPluginKernelAgainstCPU runs a
						// registered plugin on both targets.
						t.Skip("a test plugin that is not registered")
					}
				}
				in := irtest.RandomInputs(net, uint64(i), 1)
				engines := map[string]*engine.Engine{}
				for _, tgt := range []string{"cpu", "cuda"} {
					cfg := compiler.DefaultConfig()
					cfg.Target, cfg.Precision, cfg.Verify = tgt, p.prec, true
					plan, err := compiler.Build(net, cfg)
					if tgt == "cuda" && errors.Is(err, diag.UnsupportedNode) {
						refused = append(refused, fmt.Sprintf("%s/%v: %v", name, p.prec, err))
						t.Skipf("refused: %v", err)
					}
					if err != nil {
						t.Fatalf("build for %s: %v", tgt, err)
					}
					eng, err := engine.LoadPlan(plan)
					if err != nil {
						t.Fatalf("load for %s: %v", tgt, err)
					}
					defer eng.Close()
					engines[tgt] = eng
				}
				compareOutputs(t, execute(t, engines["cpu"], in), execute(t, engines["cuda"], in), tolerance.For(p.dt).Scaled(16))
				for _, l := range net.Layers() {
					ran[l.Type()] = true
				}
			})
		}
	}
	for _, r := range refused {
		t.Log("refused: " + r)
	}
	for _, k := range dsl.AllLayerTypes() {
		if !ran[k] {
			t.Logf("layer kind %v ran in no network on the CUDA target", k)
		}
	}
}

func onnxNet(t *testing.T, file string) *dsl.Network {
	net, err := onnx.Import(filepath.Join("..", "..", "..", "importers", "onnx", "testdata", "pytorch", file), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestModelsAgainstCPU runs PyTorch exports and a DSL ResNet block on both.
func TestModelsAgainstCPU(t *testing.T) {
	needGPU(t)
	compareTargets(t, onnxNet(t, "small_cnn.onnx"), map[string][]int64{"x": {8, 3, 32, 32}}, compiler.FP32, dsl.Float32, 144)
	compareTargets(t, onnxNet(t, "small_cnn.onnx"), map[string][]int64{"x": {8, 3, 32, 32}}, compiler.FP16, dsl.Float16, 144)
	compareTargets(t, onnxNet(t, "transformer_block.onnx"), map[string][]int64{"x": {4, 16, 32}}, compiler.FP32, dsl.Float32, 64)
	compareTargets(t, onnxNet(t, "transformer_block.onnx"), map[string][]int64{"x": {4, 16, 32}}, compiler.FP16, dsl.Float16, 64)
	bert := map[string][]int64{"input_ids": {2, 16}, "attention_mask": {2, 16}}
	compareTargets(t, onnxNet(t, "tiny_bert.onnx"), bert, compiler.FP32, dsl.Float32, 64)
	compareTargets(t, onnxNet(t, "tiny_bert.onnx"), bert, compiler.FP16, dsl.Float16, 64)

	rng := rand.New(rand.NewPCG(5, 6))
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 16, 14, 14})
	h := nn.Conv2d(net, x, weights(rng, 16, 16, 3, 3), dsl.Weights{}, nn.Conv2dOptions{Padding: [2]int64{1, 1}})
	h = nn.BatchNorm(net, h, nn.BatchNormParams{Mean: weights(rng, 16).Tensor().AsFloat32(), Var: ones(16), Gamma: ones(16), Beta: weights(rng, 16).Tensor().AsFloat32(), Eps: 1e-5})
	h = net.AddActivation(net.AddElementWise(h, x, dsl.ElementWiseSum).Output(0), dsl.ActivationReLU).Output(0)
	h.SetName("y")
	net.MarkOutput(h)
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	compareTargets(t, net, map[string][]int64{"x": {4, 16, 14, 14}}, compiler.FP32, dsl.Float32, 144)
}

func ones(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// TestNoLeaksAndConcurrentContexts runs an engine 10,000 times and checks
// the device's free memory is back where it was, then runs 8 goroutines
// with their own contexts and checks every answer equals one context's.
func TestNoLeaksAndConcurrentContexts(t *testing.T) {
	needGPU(t)
	dev, err := gpu.NewContext(0)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	net := onnxNet(t, "small_cnn.onnx")
	shapes := map[string][]int64{"x": {2, 3, 32, 32}}
	in := map[string]*tensor.Tensor{"x": irtest.RandomTensor(rand.New(rand.NewPCG(9, 9)), dsl.Float32, shapes["x"])}
	eng := build(t, net, "cuda", compiler.FP32, shapes)
	want := execute(t, eng, in) // plans and allocates once
	// A first context records and replays a CUDA graph (on by default) and
	// closes: the driver keeps memory for graph launches after the first,
	// which is its cache and not a leak.
	warm, _ := eng.NewContext()
	for range 3 {
		if _, err := warm.Execute(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	if !warm.CUDAGraphs() {
		t.Fatal("CUDA graphs are not on by default for an engine that can be recorded")
	}
	warm.Close()
	free0, _, _ := dev.MemGetInfo()
	c, _ := eng.NewContext()
	for i := 0; i < 10000; i++ {
		if _, err := c.Execute(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	free1, _, _ := dev.MemGetInfo()
	if free1 < free0 {
		t.Errorf("device free memory went from %d to %d bytes over 10,000 executions", free0, free1)
	}
	enginetest.ConcurrentContexts(t, eng, in, want, 8, 50)
	eng.Close()
}

// TestExecuteDevice runs a model on inputs in device memory and checks the
// outputs it writes into device buffers equal Execute's on host tensors,
// and that a buffer too small for an output is an error.
func TestExecuteDevice(t *testing.T) {
	needGPU(t)
	dev, err := gpu.NewContext(0)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	shapes := map[string][]int64{"x": {2, 3, 32, 32}}
	eng := build(t, onnxNet(t, "small_cnn.onnx"), "cuda", compiler.FP16, shapes)
	defer eng.Close()
	x := irtest.RandomTensor(rand.New(rand.NewPCG(5, 5)), dsl.Float32, shapes["x"])
	want := execute(t, eng, map[string]*tensor.Tensor{"x": x})
	xb, err := dev.Alloc(len(x.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer xb.Free()
	if err := dev.CopyHtoD(xb.Ptr(), x.Bytes()); err != nil {
		t.Fatal(err)
	}
	outs := map[string]engine.DeviceBuffer{}
	bufs := map[string]*gpu.Buffer{}
	for name, w := range want {
		b, err := dev.Alloc(len(w.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Free()
		bufs[name] = b
		outs[name] = engine.DeviceBuffer{Ptr: uintptr(b.Ptr()), Bytes: int64(len(w.Bytes()))}
	}
	c, err := eng.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in := map[string]engine.DeviceTensor{"x": {Ptr: uintptr(xb.Ptr()), Type: dsl.Float32, Shape: shapes["x"]}}
	for range 3 {
		got, err := c.ExecuteDevice(context.Background(), in, outs)
		if err != nil {
			t.Fatal(err)
		}
		for name, w := range want {
			if fmt.Sprint(got[name]) != fmt.Sprint(w.Shape()) {
				t.Fatalf("output %q: shape %v, want %v", name, got[name], w.Shape())
			}
			g := tensor.New(w.DType(), w.Shape()...)
			if err := dev.CopyDtoH(g.Bytes(), bufs[name].Ptr()); err != nil {
				t.Fatal(err)
			}
			if err := irtest.Compare(map[string]*tensor.Tensor{name: w}, map[string]*tensor.Tensor{name: g}, 0); err != nil {
				t.Fatalf("ExecuteDevice and Execute differ: %v", err)
			}
		}
	}
	for name, b := range outs {
		small := map[string]engine.DeviceBuffer{}
		for n, o := range outs {
			small[n] = o
		}
		small[name] = engine.DeviceBuffer{Ptr: b.Ptr, Bytes: b.Bytes - 1}
		if _, err := c.ExecuteDevice(context.Background(), in, small); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("a device buffer one byte short for %q: got %v, want an error naming it", name, err)
		}
	}
}

// TestCUDAGraphs runs engines with CUDA graphs on, from host tensors and
// from device memory, and checks every answer equals the step-by-step
// run's bit for bit, through the run before the capture, the capture
// with its check, and replays on other inputs; that graphs stay on (the
// target says when it turns them off); and that an engine with a host
// step says it cannot be recorded.
func TestCUDAGraphs(t *testing.T) {
	needGPU(t)
	var warnings []string
	defer cudatarget.OnWarning(func(w string) { warnings = append(warnings, w) })()
	cases := []struct {
		file   string
		prec   compiler.Precision
		shapes map[string][]int64
	}{
		{"small_cnn.onnx", compiler.FP16, map[string][]int64{"x": {2, 3, 32, 32}}},
		{"small_cnn.onnx", compiler.FP32, map[string][]int64{"x": {2, 3, 32, 32}}},
		{"tiny_bert.onnx", compiler.FP16, map[string][]int64{"input_ids": {2, 16}, "attention_mask": {2, 16}}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%v", tc.file, tc.prec), func(t *testing.T) {
			warnings = nil
			net := onnxNet(t, tc.file)
			eng := build(t, net, "cuda", tc.prec, tc.shapes)
			defer eng.Close()
			c, err := eng.NewContext()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.SetCUDAGraphs(true); err != nil {
				t.Fatal(err)
			}
			for i := range 6 {
				in := graphInputs(net, tc.shapes, uint64(i%2)) // replays on other inputs too
				want := execute(t, eng, in)
				got, err := c.Execute(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				if err := irtest.Compare(want, got, 0); err != nil {
					t.Fatalf("run %d with graphs: %v", i, err)
				}
				gotDev := executeOnDevice(t, c, in, want)
				if err := irtest.Compare(want, gotDev, 0); err != nil {
					t.Fatalf("run %d with graphs on device memory: %v", i, err)
				}
			}
			if len(warnings) > 0 {
				t.Fatalf("graphs were turned off: %v", warnings)
			}
		})
	}
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{4, 4})
	y := net.AddNonZero(x).Output(0) // its count ends a phase: no graph
	y.SetName("y")
	net.MarkOutput(y)
	hostEng := build(t, net, "cuda", compiler.FP32, nil)
	defer hostEng.Close()
	hc, err := hostEng.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	if hc.CUDAGraphs() {
		t.Error("graphs are on by default for an engine whose dims depend on data")
	}
	if err := hc.SetCUDAGraphs(true); err == nil || !strings.Contains(err.Error(), "NonZero") {
		t.Errorf("graphs on an engine whose dims depend on data: %v, want an error naming the layer", err)
	}
}

// TestTacticsTimedAtBuildAndCached builds a CNN and a transformer block
// twice with one timing cache: the first build times the convolutions'
// cuDNN plans and the matrix multiplies' cuBLASLt algorithms and stores the
// choices in the engine and the cache; the second finds every one in the
// cache (hits, no misses) and chooses the same tactics; engines built
// either way compute the same outputs.
func TestTacticsTimedAtBuildAndCached(t *testing.T) {
	needGPU(t)
	cachePath := filepath.Join(t.TempDir(), "timing.cache")
	for _, tc := range []struct {
		file   string
		shapes map[string][]int64
	}{
		{"small_cnn.onnx", map[string][]int64{"x": {4, 3, 32, 32}}},
		{"transformer_block.onnx", map[string][]int64{"x": {4, 16, 32}}},
	} {
		net := onnxNet(t, tc.file)
		var first map[string]string
		var firstOut map[string]*tensor.Tensor
		in := graphInputs(net, tc.shapes, 3)
		for round := range 2 {
			cfg := compiler.DefaultConfig()
			cfg.Target, cfg.Precision, cfg.TimingCachePath = "cuda", compiler.FP16, cachePath
			cfg.Profiles = []compiler.Profile{compiler.StaticProfile(tc.shapes)}
			eng := buildConfig(t, net, cfg)
			md := eng.Manifest().GetMetadata()
			var hits, misses, entries int
			if _, err := fmt.Sscanf(md["build.timing_cache"], "%d hits, %d misses, %d entries", &hits, &misses, &entries); err != nil {
				t.Fatalf("%s: timing cache summary %q: %v", tc.file, md["build.timing_cache"], err)
			}
			if md["cuda.tactics_chosen"] == "0" || md["cuda.tactics_chosen"] == "" {
				t.Fatalf("%s round %d: no tactic chosen at build time (metadata %v)", tc.file, round, md)
			}
			tactics := map[string]string{}
			for _, l := range eng.Layers() {
				if strings.Contains(l.GetTactic(), "cudnn:") || strings.Contains(l.GetTactic(), "cublasLt:") {
					tactics[l.GetName()] = l.GetTactic()
				}
			}
			out := execute(t, eng, in)
			eng.Close()
			if round == 0 {
				if misses == 0 || len(tactics) == 0 {
					t.Fatalf("%s: the first build missed %d times and named %d tactics; want timing", tc.file, misses, len(tactics))
				}
				first, firstOut = tactics, out
				continue
			}
			if misses != 0 || hits == 0 {
				t.Errorf("%s: the build with a warm cache had %d hits and %d misses; want only hits", tc.file, hits, misses)
			}
			if fmt.Sprint(tactics) != fmt.Sprint(first) {
				t.Errorf("%s: tactics differ between the timed and the cached build:\n%v\n%v", tc.file, first, tactics)
			}
			if err := irtest.Compare(firstOut, out, 0); err != nil {
				t.Errorf("%s: the cached build computes other outputs: %v", tc.file, err)
			}
		}
	}
}

// graphInputs are random inputs for net: for int64 inputs 0 or 1 where
// the name says mask, else token ids below 64 (tiny BERT's vocabulary);
// floats in [-1, 1) for the rest.
func graphInputs(net *dsl.Network, shapes map[string][]int64, seed uint64) map[string]*tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 11))
	in := map[string]*tensor.Tensor{}
	for _, x := range net.Inputs() {
		s := shapes[x.Name()]
		if x.Type() != dsl.Int64 {
			in[x.Name()] = irtest.RandomTensor(rng, x.Type(), s)
			continue
		}
		n, limit := int64(1), int64(64)
		for _, d := range s {
			n *= d
		}
		if strings.Contains(x.Name(), "mask") {
			limit = 2
		}
		v := make([]int64, n)
		for i := range v {
			v[i] = rng.Int64N(limit)
		}
		in[x.Name()], _ = tensor.FromInt64(s, v)
	}
	return in
}

// executeOnDevice runs c on copies of in in device memory and brings the
// outputs (shaped as want's) back to the host.
func executeOnDevice(t *testing.T, c *engine.Context, in, want map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	t.Helper()
	dev, err := gpu.NewContext(0)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	ins := map[string]engine.DeviceTensor{}
	for name, v := range in {
		b, err := dev.Alloc(max(len(v.Bytes()), 1))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Free()
		if err := dev.CopyHtoD(b.Ptr(), v.Bytes()); err != nil {
			t.Fatal(err)
		}
		ins[name] = engine.DeviceTensor{Ptr: uintptr(b.Ptr()), Type: v.DType(), Shape: v.Shape()}
	}
	outs := map[string]engine.DeviceBuffer{}
	bufs := map[string]*gpu.Buffer{}
	for name, w := range want {
		b, err := dev.Alloc(max(len(w.Bytes()), 1))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Free()
		bufs[name] = b
		outs[name] = engine.DeviceBuffer{Ptr: uintptr(b.Ptr()), Bytes: int64(len(w.Bytes()))}
	}
	if _, err := c.ExecuteDevice(context.Background(), ins, outs); err != nil {
		t.Fatal(err)
	}
	got := map[string]*tensor.Tensor{}
	for name, w := range want {
		g := tensor.New(w.DType(), w.Shape()...)
		if err := dev.CopyDtoH(g.Bytes(), bufs[name].Ptr()); err != nil {
			t.Fatal(err)
		}
		got[name] = g
	}
	return got
}

// TestConformanceCUDA runs the ONNX backend test data on the CUDA target.
// Cases the CPU engine excludes are skipped; cases the CUDA target refuses
// (dims that depend on data it cannot read back) are counted apart.
func TestConformanceCUDA(t *testing.T) {
	needGPU(t)
	refused := 0
	exclude := filepath.Join("..", "..", "..", "importers", "onnx", "testdata", "conformance_cpu_exclude.txt")
	conformance.Suite(t, exclude, compiled.Runner("cuda"), func(key string, r conformance.Result) {
		if strings.Contains(r.Detail, "UnsupportedNode") {
			refused++
			t.Logf("refused %s: %s", key, r.Detail)
			return
		}
		t.Errorf("%s: %s", key, r.Detail)
	})
	fmt.Printf("cuda: %d cases refused by the CUDA target (dims that depend on data it cannot read back, a region read inside itself)\n", refused)
}

// TestPluginKernelAgainstCPU builds the SwiGLU example (a matmul and the
// plugin) for both targets: the CUDA target launches the plugin's own
// NVRTC-compiled kernel, the CPU target its Go implementation.
func TestPluginKernelAgainstCPU(t *testing.T) {
	needGPU(t)
	net := swigluModel.DSL()
	shapes := map[string][]int64{"x": {37, swigluModel.Width}}
	eng := build(t, net, "cuda", compiler.FP32, shapes)
	defer eng.Close()
	if tac := eng.Layers(); len(tac) == 0 {
		t.Fatal("no layers")
	}
	found := false
	for _, l := range eng.Layers() {
		found = found || l.GetTactic() == "plugin"
	}
	if !found {
		t.Fatalf("the plugin layer does not run its CUDA kernel: %v", eng.Layers())
	}
	compareTargets(t, net, shapes, compiler.FP32, dsl.Float32, 8)
}

// TestIntegerArithmeticAgainstCPU runs integer Div, FloorDiv and Pow
// (broadcast, negative operands, Pow with negative exponents) in int32
// and int64 on both targets, which must agree bit for bit, and a zero
// divisor, which both must refuse with the CPU engine's error.
func TestIntegerArithmeticAgainstCPU(t *testing.T) {
	needGPU(t)
	rng := rand.New(rand.NewPCG(7, 8))
	ints := func(dt dsl.DataType, shape []int64, lo, hi int64, zero bool) *tensor.Tensor {
		v := tensor.New(dt, shape...)
		for k := range v.Len() {
			x := lo + rng.Int64N(hi-lo+1)
			for x == 0 && !zero {
				x = lo + rng.Int64N(hi-lo+1)
			}
			v.SetInt64(k, x)
		}
		return v
	}
	for _, dt := range []dsl.DataType{dsl.Int32, dsl.Int64} {
		t.Run(dt.String(), func(t *testing.T) {
			net := dsl.NewNetwork()
			a := net.AddInput("a", dt, dsl.Dims{6, 7})
			b := net.AddInput("b", dt, dsl.Dims{1, 7})
			for _, op := range []dsl.ElementWiseOperation{dsl.ElementWiseDiv, dsl.ElementWiseFloorDiv, dsl.ElementWisePow} {
				y := net.AddElementWise(a, b, op).Output(0)
				y.SetName(op.String())
				net.MarkOutput(y)
			}
			cpu := build(t, net, "cpu", compiler.FP32, nil)
			defer cpu.Close()
			gpu := build(t, net, "cuda", compiler.FP32, nil)
			defer gpu.Close()
			in := map[string]*tensor.Tensor{"a": ints(dt, []int64{6, 7}, -40, 40, true), "b": ints(dt, []int64{1, 7}, -4, 6, false)}
			if err := irtest.Compare(execute(t, cpu, in), execute(t, gpu, in), 0); err != nil {
				t.Error(err)
			}
			zero := in["b"].Clone()
			zero.SetInt64(3, 0)
			in["b"] = zero
			for name, eng := range map[string]*engine.Engine{"cpu": cpu, "cuda": gpu} {
				_, err := eng.Run(context.Background(), in)
				if !errors.Is(err, diag.OutOfRange) || !strings.Contains(err.Error(), `integer division by zero at element 3 of "b"`) {
					t.Errorf("%s with a zero divisor: %v, want the division-by-zero error", name, err)
				}
			}
		})
	}
}

// TestRotaryAndKVCacheAgainstCPU runs RoPE with position ids over part of
// the head (half-split, fp16 activations) and KV cache updates whose
// writes run past the cache's end or start before it, on both targets:
// the cache bit for bit, RoPE within one rounding of fp16; an id outside
// the cache must fail on both.
func TestRotaryAndKVCacheAgainstCPU(t *testing.T) {
	needGPU(t)
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float16, dsl.Dims{2, 3, 5, 8})
	cs := net.AddInput("cos", dsl.Float32, dsl.Dims{16, 3})
	sn := net.AddInput("sin", dsl.Float32, dsl.Dims{16, 3})
	r := net.AddRotaryEmbedding(x, cs, sn, false, 6)
	r.SetInput(3, net.AddInput("ids", dsl.Int32, dsl.Dims{2, 5}))
	y := r.Output(0)
	y.SetName("y")
	net.MarkOutput(y)
	cache := net.AddInput("cache", dsl.Float16, dsl.Dims{3, 2, 6, 4})
	kv := net.AddKVCacheUpdate(cache, net.AddInput("upd", dsl.Float16, dsl.Dims{3, 2, 3, 4}), net.AddInput("idx", dsl.Int64, dsl.Dims{3}), dsl.KVCacheModeLinear).Output(0)
	kv.SetName("kv")
	net.MarkOutput(kv)
	in := irtest.RandomInputs(net, 3, 1)
	ids := tensor.New(dsl.Int32, 2, 5)
	for k := range ids.Len() {
		ids.SetInt64(k, (k*7)%16)
	}
	in["ids"] = ids
	in["idx"], _ = tensor.FromInt64([]int64{3}, []int64{4, -1, 0}) // rows past the end, before the start
	cpu := build(t, net, "cpu", compiler.FP32, nil)
	defer cpu.Close()
	gpu := build(t, net, "cuda", compiler.FP32, nil)
	defer gpu.Close()
	want, got := execute(t, cpu, in), execute(t, gpu, in)
	if err := irtest.Compare(map[string]*tensor.Tensor{"kv": want["kv"]}, map[string]*tensor.Tensor{"kv": got["kv"]}, 0); err != nil {
		t.Error(err)
	}
	compareOutputs(t, map[string]*tensor.Tensor{"y": want["y"]}, map[string]*tensor.Tensor{"y": got["y"]}, tolerance.For(dsl.Float16))
	bad := ids.Clone()
	bad.SetInt64(6, 16)
	in["ids"] = bad
	for name, eng := range map[string]*engine.Engine{"cpu": cpu, "cuda": gpu} {
		if _, err := eng.Run(context.Background(), in); !errors.Is(err, diag.OutOfRange) || !strings.Contains(err.Error(), "position id 16 at index 6 is outside the cache rows [0, 16)") {
			t.Errorf("%s with a bad position id: %v", name, err)
		}
	}
}

// TestAttentionAgainstCPU runs the Attention layer's kernel (grouped
// queries, Bool and additive masks, both causal kinds, key/value lengths,
// no normalization) against the CPU target in fp32 and fp16, within the
// tolerance of sums of the head size and sequence length; a key/value
// length past the keys must fail on both.
func TestAttentionAgainstCPU(t *testing.T) {
	needGPU(t)
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16} {
		for _, tc := range []struct {
			name   string
			hkv    int64
			mask   string
			causal dsl.CausalMaskKind
			kvLen  bool
			norm   dsl.AttentionNormalizationOp
		}{
			{"plain", 4, "", dsl.CausalMaskNone, false, dsl.AttentionNormSoftmax},
			{"gqa-bool-mask-lengths", 2, "bool", dsl.CausalMaskNone, true, dsl.AttentionNormSoftmax},
			{"mqa-additive-mask-no-norm", 1, "add", dsl.CausalMaskNone, false, dsl.AttentionNormNone},
			{"causal-upper-left", 4, "", dsl.CausalMaskUpperLeft, false, dsl.AttentionNormSoftmax},
			{"causal-lower-right-lengths", 2, "", dsl.CausalMaskLowerRight, true, dsl.AttentionNormSoftmax},
		} {
			t.Run(fmt.Sprintf("%v/%s", dt, tc.name), func(t *testing.T) {
				net := cudatarget.AttentionNet(dt, cudatarget.NewAttentionShape(2, 4, tc.hkv, 3, 5, 8), tc.mask, tc.causal, tc.kvLen, tc.norm)
				in := irtest.RandomInputs(net, 5, 1)
				if tc.kvLen {
					in["kvlen"], _ = tensor.FromInt32([]int64{2}, []int32{5, 2})
				}
				cpu := build(t, net, "cpu", compiler.FP32, nil)
				defer cpu.Close()
				gpu := build(t, net, "cuda", compiler.FP32, nil)
				defer gpu.Close()
				compareOutputs(t, execute(t, cpu, in), execute(t, gpu, in), tolerance.For(dt).Scaled(16))
				if tc.kvLen {
					in["kvlen"], _ = tensor.FromInt32([]int64{2}, []int32{6, 1})
					for name, eng := range map[string]*engine.Engine{"cpu": cpu, "cuda": gpu} {
						if _, err := eng.Run(context.Background(), in); !errors.Is(err, diag.OutOfRange) || !strings.Contains(err.Error(), "key/value length 6 of batch 0 is outside [0, 5]") {
							t.Errorf("%s with a key/value length past the keys: %v", name, err)
						}
					}
				}
			})
		}
	}
}

// TestTensorCoreAttentionAgainstCPU runs the tensor-core attention kernel
// (half and bfloat16, head dims 16 to 128) against the CPU engine:
// query rows that are not a multiple of the warp's 16, keys that are not
// a multiple of its chunk of 64, grouped-query heads, each mask kind,
// causal masks, key/value lengths with a batch whose keys are all masked
// (zeros), and BERT-base's attention shape.
func TestTensorCoreAttentionAgainstCPU(t *testing.T) {
	needGPU(t)
	type shape struct{ b, hq, hkv, sq, skv, d int64 }
	for _, dt := range []dsl.DataType{dsl.Float16, dsl.BFloat16} {
		for _, tc := range []struct {
			name   string
			s      shape
			mask   string
			causal dsl.CausalMaskKind
			kvLen  []int32
		}{
			{"plain-d64", shape{2, 4, 2, 37, 100, 64}, "", dsl.CausalMaskNone, nil},
			{"bool-mask-d128-lengths", shape{2, 4, 4, 37, 130, 128}, "bool", dsl.CausalMaskNone, []int32{130, 0}},
			{"additive-mask-d16", shape{2, 4, 1, 20, 70, 16}, "add", dsl.CausalMaskNone, nil},
			{"causal-upper-left", shape{1, 2, 2, 65, 65, 32}, "", dsl.CausalMaskUpperLeft, nil},
			{"causal-lower-right-lengths", shape{2, 2, 2, 16, 90, 64}, "", dsl.CausalMaskLowerRight, []int32{90, 33}},
			{"bert-base", shape{2, 12, 12, 128, 128, 64}, "add", dsl.CausalMaskNone, nil},
		} {
			t.Run(fmt.Sprintf("%v/%s", dt, tc.name), func(t *testing.T) {
				s := tc.s
				net := cudatarget.AttentionNet(dt, cudatarget.NewAttentionShape(s.b, s.hq, s.hkv, s.sq, s.skv, s.d), tc.mask, tc.causal, tc.kvLen != nil, dsl.AttentionNormSoftmax)
				in := irtest.RandomInputs(net, 9, 1)
				if tc.kvLen != nil {
					in["kvlen"], _ = tensor.FromInt32([]int64{s.b}, tc.kvLen)
				}
				cpu := build(t, net, "cpu", compiler.FP32, nil)
				defer cpu.Close()
				gpu := build(t, net, "cuda", compiler.FP32, nil)
				defer gpu.Close()
				compareOutputs(t, execute(t, cpu, in), execute(t, gpu, in), tolerance.For(dt).Scaled(4))
			})
		}
	}
}

// TestHeadTransposesInAttentionAgainstCPU runs multi-head attention as
// exported (head transposes, Q scaled, additive mask), whose transposes
// and scale fold into the tensor-core kernel, against the CPU engine.
func TestHeadTransposesInAttentionAgainstCPU(t *testing.T) {
	needGPU(t)
	for _, dt := range []dsl.DataType{dsl.Float16, dsl.BFloat16} {
		t.Run(dt.String(), func(t *testing.T) {
			net, _ := cudatarget.HeadsNet(dt)
			in := irtest.RandomInputs(net, 11, 1)
			cpu := build(t, net, "cpu", compiler.FP32, nil)
			defer cpu.Close()
			gpu := build(t, net, "cuda", compiler.FP32, nil)
			defer gpu.Close()
			compareOutputs(t, execute(t, cpu, in), execute(t, gpu, in), tolerance.For(dt).Scaled(4))
		})
	}
}
