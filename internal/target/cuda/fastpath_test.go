package cuda_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
	gpu "github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/tensor"
)

// linearGELU is a transformer's feed-forward layer as PyTorch exports it:
// MatMul over [batch, tokens, features] by shared weights, the bias Add
// (folded into cuBLASLt's epilogue, with the batch stacked into one GEMM),
// the erf GELU, and a second linear layer whose bias is the first operand
// of its Add.
// The weights are scaled by 1/sqrt(fan-in), as trained layers' are, so
// activations stay near 1 and the tolerances' absolute part means what
// it says.
func linearGELU(rng *rand.Rand, n *dsl.Network, x *dsl.Tensor, in, hidden int64) *dsl.Tensor {
	w1 := n.AddConstant(dsl.Dims{1, in, hidden}, fanInWeights(rng, 1, in, hidden)).Output(0)
	b1 := n.AddConstant(dsl.Dims{1, 1, hidden}, weights(rng, 1, 1, hidden)).Output(0)
	h := n.AddMatrixMultiply(x, dsl.MatrixOpNone, w1, dsl.MatrixOpNone).Output(0)
	h = n.AddElementWise(h, b1, dsl.ElementWiseSum).Output(0)
	h = n.AddActivation(h, dsl.ActivationGeluErf).Output(0)
	w2 := n.AddConstant(dsl.Dims{1, hidden, in}, fanInWeights(rng, 1, hidden, in)).Output(0)
	b2 := n.AddConstant(dsl.Dims{1, 1, in}, weights(rng, 1, 1, in)).Output(0)
	y := n.AddMatrixMultiply(h, dsl.MatrixOpNone, w2, dsl.MatrixOpNone).Output(0)
	return n.AddElementWise(b2, y, dsl.ElementWiseSum).Output(0)
}

// fanInWeights are random weights of a matrix [1, fanIn, out] scaled by
// 1/sqrt(fanIn).
func fanInWeights(rng *rand.Rand, shape ...int64) dsl.Weights {
	w := irtest.RandomTensor(rng, dsl.Float32, shape)
	s := float32(1 / math.Sqrt(float64(shape[len(shape)-2])))
	vals := w.Float32s()
	for i := range vals {
		vals[i] *= s
	}
	return dsl.NewWeights(w)
}

// TestFastPathsAgainstCPU runs the shapes that take the fast paths (a bias
// in cuBLASLt's epilogue, a batch of matrices by one stacked into one
// GEMM, a tiled transpose, softmax and layer norm rows in registers,
// pointwise kernels moving 16 bytes a thread) against the CPU engine in
// fp32 and fp16, and one where a bias add does not fold (its matrix
// multiply's output is read twice).
func TestFastPathsAgainstCPU(t *testing.T) {
	needGPU(t)
	rng := rand.New(rand.NewPCG(8, 9))
	cases := []layerCase{
		{"linear-gelu-linear", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			return linearGELU(rng, n, x, 64, 256)
		}, dsl.Dims{4, 32, 64}, 256},
		{"bias-read-twice", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			w := n.AddConstant(dsl.Dims{1, 64, 64}, weights(rng, 1, 64, 64)).Output(0)
			b := n.AddConstant(dsl.Dims{1, 1, 64}, weights(rng, 1, 1, 64)).Output(0)
			h := n.AddMatrixMultiply(x, dsl.MatrixOpNone, w, dsl.MatrixOpNone).Output(0)
			y := n.AddElementWise(h, b, dsl.ElementWiseSum).Output(0)
			return n.AddElementWise(y, h, dsl.ElementWiseProd).Output(0)
		}, dsl.Dims{2, 16, 64}, 64},
		{"key-transpose-tiled", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			s := n.AddShuffle(x)
			s.SetFirstTranspose(dsl.Permutation{0, 2, 3, 1}) // [B, S, H, D] -> [B, H, D, S]
			return n.AddUnary(s.Output(0), dsl.UnaryAbs).Output(0)
		}, dsl.Dims{3, 70, 2, 40}, 1},
		{"rows-in-registers", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			g := n.AddConstant(dsl.Dims{1, 1, 777}, weights(rng, 1, 1, 777)).Output(0)
			b := n.AddConstant(dsl.Dims{1, 1, 777}, weights(rng, 1, 1, 777)).Output(0)
			y := n.AddNormalization(x, g, b, 1<<2).Output(0)
			sm := n.AddSoftMax(y)
			sm.SetAxes(1 << 1) // rows of 20, strided
			return sm.Output(0)
		}, dsl.Dims{6, 20, 777}, 777},
		{"vector-pointwise-broadcasts", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			row := n.AddConstant(dsl.Dims{1, 1024}, weights(rng, 1, 1024)).Output(0) // 16-byte loads
			col := n.AddConstant(dsl.Dims{64, 1}, weights(rng, 64, 1)).Output(0)     // one load per 8
			one := n.AddConstant(dsl.Dims{1, 1}, dsl.Float32Weights(1.5)).Output(0)  // one load per thread
			y := n.AddElementWise(x, row, dsl.ElementWiseSum).Output(0)
			y = n.AddElementWise(y, col, dsl.ElementWiseProd).Output(0)
			y = n.AddElementWise(y, one, dsl.ElementWiseDiv).Output(0)
			return n.AddActivation(y, dsl.ActivationGeluErf).Output(0)
		}, dsl.Dims{64, 1024}, 1},
		{"residual-layer-norm", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			g := n.AddConstant(dsl.Dims{1, 1, 768}, weights(rng, 1, 1, 768)).Output(0)
			b := n.AddConstant(dsl.Dims{1, 1, 768}, weights(rng, 1, 1, 768)).Output(0)
			y := n.AddElementWise(x, n.AddUnary(x, dsl.UnaryAbs).Output(0), dsl.ElementWiseSum).Output(0)
			return n.AddNormalization(y, g, b, 1<<2).Output(0)
		}, dsl.Dims{8, 16, 768}, 768},
		{"reduce-thread-per-output", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			return n.AddReduce(x, dsl.ReduceAvg, 1<<2|1<<3, true).Output(0) // a global average pool
		}, dsl.Dims{64, 128, 7, 7}, 49},
		{"reduce-thread-per-output-strided", func(n *dsl.Network, x *dsl.Tensor) *dsl.Tensor {
			return n.AddReduce(x, dsl.ReduceMax, 1<<1, false).Output(0)
		}, dsl.Dims{64, 100, 70}, 1},
	}
	t.Run("folded", func(t *testing.T) {
		net := dsl.NewNetwork()
		y := linearGELU(rng, net, net.AddInput("x", dsl.Float32, dsl.Dims{4, 32, 64}), 64, 256)
		y.SetName("y")
		net.MarkOutput(y)
		eng := build(t, net, "cuda", compiler.FP16, nil)
		defer eng.Close()
		folded := 0
		for _, l := range eng.Layers() {
			if strings.Contains(l.GetTactic(), "cuBLASLt epilogue") {
				folded++
			}
		}
		if folded != 2 {
			t.Errorf("%d bias adds folded into matrix multiplies, want 2: %v", folded, eng.Layers())
		}
	})
	runLayerCases(t, cases)
}

// TestVectorKernelOnUnalignedInput runs a pointwise kernel whose vector
// path reads the network input, from a caller's device buffer 4 bytes
// off 16-byte alignment: the element path must run and give exactly the
// aligned run's output.
func TestVectorKernelOnUnalignedInput(t *testing.T) {
	needGPU(t)
	rng := rand.New(rand.NewPCG(10, 11))
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{64, 1024})
	b := net.AddConstant(dsl.Dims{1, 1024}, weights(rng, 1, 1024)).Output(0)
	y := net.AddActivation(net.AddElementWise(x, b, dsl.ElementWiseSum).Output(0), dsl.ActivationGeluErf).Output(0)
	y.SetName("y")
	net.MarkOutput(y)
	eng := build(t, net, "cuda", compiler.FP32, nil)
	defer eng.Close()
	in := irtest.RandomTensor(rng, dsl.Float32, []int64{64, 1024})
	want := execute(t, eng, map[string]*tensor.Tensor{"x": in})["y"]
	dev, err := gpu.NewContext(0)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	n := len(in.Bytes())
	xb, err := dev.Alloc(n + 16)
	if err != nil {
		t.Fatal(err)
	}
	defer xb.Free()
	yb, err := dev.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	defer yb.Free()
	off := xb.Ptr().Add(4)
	if err := dev.CopyHtoD(off, in.Bytes()); err != nil {
		t.Fatal(err)
	}
	c, err := eng.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ins := map[string]engine.DeviceTensor{"x": {Ptr: uintptr(off), Type: dsl.Float32, Shape: []int64{64, 1024}}}
	outs := map[string]engine.DeviceBuffer{"y": {Ptr: uintptr(yb.Ptr()), Bytes: int64(n)}}
	if _, err := c.ExecuteDevice(context.Background(), ins, outs); err != nil {
		t.Fatal(err)
	}
	got := tensor.New(dsl.Float32, 64, 1024)
	if err := dev.CopyDtoH(got.Bytes(), yb.Ptr()); err != nil {
		t.Fatal(err)
	}
	if err := irtest.Compare(map[string]*tensor.Tensor{"y": want}, map[string]*tensor.Tensor{"y": got}, 0); err != nil {
		t.Fatalf("unaligned input: %v", err)
	}
}
