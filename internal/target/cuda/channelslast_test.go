package cuda_test

import (
	"math/rand/v2"
	"testing"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target/cuda"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// TestChannelsLastComputesTheSame runs the residual block and its
// channels-last rewrite on the CPU engine. The rewrite only moves data,
// but the compiler folds the original's bias add into its convolution
// and not the rewritten one's (it adds NHWC), so the two round the sum
// to float16 at different points: a few units in the last place.
func TestChannelsLastComputesTheSame(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	net := cuda.ResidualBlockNet(rng, 2, 12)
	rewritten, changed, err := cuda.ChannelsLast(net)
	if err != nil || !changed {
		t.Fatalf("channelsLast: changed %v, %v", changed, err)
	}
	in := map[string]*tensor.Tensor{"x": irtest.RandomTensor(rng, dsl.Float32, []int64{2, 8, 12, 12})}
	orig := build(t, net, "cpu", compiler.FP32, nil)
	defer orig.Close()
	rw := build(t, rewritten, "cpu", compiler.FP32, nil)
	defer rw.Close()
	compareOutputs(t, execute(t, orig, in), execute(t, rw, in), tolerance.For(dsl.Float16).Scaled(8))
}

// TestChannelsLastAgainstCPU runs the residual block's fp16 engine, whose
// convolutions and pooling run channels last, against the CPU engine, at
// a batch and size where cuDNN picks tensor-core engines.
func TestChannelsLastAgainstCPU(t *testing.T) {
	needGPU(t)
	for _, c := range []struct{ n, hw int64 }{{1, 7}, {8, 28}} {
		net := cuda.ResidualBlockNet(rand.New(rand.NewPCG(5, 6)), c.n, c.hw)
		compareTargets(t, net, nil, compiler.FP16, dsl.Float16, 16*9)
	}
}
