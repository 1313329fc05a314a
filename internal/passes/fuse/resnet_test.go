package fuse

import (
	"fmt"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/dsl/nn"
)

// A ResNet-18-style network written with dsl/nn the way
// examples/resnet/resnet18.go writes it: a stem, a basic block with an
// identity shortcut and one with a projection, global average pool and a
// classifier.
func TestResNetBlocks(t *testing.T) {
	b := newBuilder()
	net := b.net
	named := func(t *dsl.Tensor, n string) *dsl.Tensor { return name(t, n) }
	conv := func(n string, x *dsl.Tensor, in, out, k, stride, pad int64) *dsl.Tensor {
		return named(nn.Conv2d(net, x, b.weights(out, in, k, k), dsl.Weights{},
			nn.Conv2dOptions{Stride: [2]int64{stride, stride}, Padding: [2]int64{pad, pad}}), n)
	}
	bn := func(n string, x *dsl.Tensor, c int) *dsl.Tensor {
		u := func() []float32 {
			v := make([]float32, c)
			for i := range v {
				v[i] = float32(0.5 + b.rng.Float64())
			}
			return v
		}
		return named(nn.BatchNorm(net, x, nn.BatchNormParams{Gamma: u(), Beta: u(), Mean: u(), Var: u(), Eps: 1e-5}), n)
	}
	relu := func(n string, x *dsl.Tensor) *dsl.Tensor { return b.act(n, x, dsl.ActivationReLU) }
	block := func(p string, x *dsl.Tensor, in, out, stride int64) *dsl.Tensor {
		y := relu(p+".relu1", bn(p+".bn1", conv(p+".conv1", x, in, out, 3, stride, 1), int(out)))
		y = bn(p+".bn2", conv(p+".conv2", y, out, out, 3, 1, 1), int(out))
		shortcut := x
		if stride != 1 || in != out {
			shortcut = bn(p+".down.bn", conv(p+".down.conv", x, in, out, 1, stride, 0), int(out))
		}
		return relu(p+".relu2", b.ew(p+".add", y, shortcut, dsl.ElementWiseSum))
	}
	x := b.input("image", -1, 3, 16, 16)
	y := relu("stem.relu", bn("stem.bn", conv("stem.conv", x, 3, 8, 3, 1, 1), 8))
	y = block("l1", y, 8, 8, 1)
	y = block("l2", y, 8, 16, 2)
	y = named(net.AddReduce(y, dsl.ReduceAvg, 1<<2|1<<3, false).Output(0), "pool")
	logits := nn.Linear(net, y, b.weights(10, 16), b.weights(10))
	mm, _ := logits.Producer()
	mm.SetName("fc.bias")
	p, _ := mm.Input(0).Producer()
	p.SetName("fc")
	g := fuse(t, b.output(logits))
	cba := func(p string) string { return fmt.Sprintf("ConvBiasActivation[%[1]s.conv1 %[1]s.bn1 %[1]s.relu1]", p) }
	res := func(p string) string {
		return fmt.Sprintf("ConvResidual[%[1]s.conv2 %[1]s.bn2 %[1]s.add %[1]s.relu2]", p)
	}
	wantGroups(t, g,
		"ConvBiasActivation[stem.conv stem.bn stem.relu]",
		cba("l1"), res("l1"),
		cba("l2"),
		// The projection is computed after conv2 in layer order, but the
		// residual group reads it: it is scheduled first.
		"ConvBiasActivation[l2.down.conv l2.down.bn]",
		res("l2"),
		"MatMulBiasActivation[fc fc.bias]")
}
