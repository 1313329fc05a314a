package fuse

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/tensor"
)

// builder writes small test networks with named layers and random,
// non-zero weights.
type builder struct {
	net *dsl.Network
	rng *rand.Rand
}

func newBuilder() *builder {
	return &builder{net: dsl.NewNetwork(), rng: rand.New(rand.NewPCG(1, 2))}
}

func (b *builder) weights(shape ...int64) dsl.Weights {
	v := make([]float32, tensor.Volume(shape))
	for i := range v {
		v[i] = float32(b.rng.Float64()*1.5 + 0.25)
		if b.rng.IntN(2) == 0 {
			v[i] = -v[i]
		}
	}
	t, err := tensor.FromFloat32(shape, v)
	if err != nil {
		panic(err)
	}
	return dsl.NewWeights(t)
}

// name names the layer that produces t and returns t.
func name(t *dsl.Tensor, n string) *dsl.Tensor {
	p, _ := t.Producer()
	p.SetName(n)
	return t
}

func (b *builder) input(n string, dims ...int64) *dsl.Tensor {
	return b.net.AddInput(n, dsl.Float32, dims)
}

func (b *builder) constant(n string, dims ...int64) *dsl.Tensor {
	return name(b.net.AddConstant(dims, b.weights(dims...)).Output(0), n)
}

// scalar is a one-element constant of rank r holding v.
func (b *builder) scalar(n string, r int, v float32) *dsl.Tensor {
	dims := make(dsl.Dims, r)
	for i := range dims {
		dims[i] = 1
	}
	return name(b.net.AddConstant(dims, dsl.Float32Weights(v)).Output(0), n)
}

// conv is a 3x3 convolution with padding 1 and a bias, keeping H and W.
func (b *builder) conv(n string, x *dsl.Tensor, out int64) *dsl.Tensor {
	in := x.Dims()[1]
	l := b.net.AddConvolutionNd(x, out, dsl.Dims{3, 3}, b.weights(out, in, 3, 3), b.weights(out))
	l.SetPaddingNd(dsl.Dims{1, 1})
	l.SetName(n)
	return l.Output(0)
}

// bn is a per-channel Scale, as nn.BatchNorm and the ONNX importer write
// an inference batch norm.
func (b *builder) bn(n string, x *dsl.Tensor) *dsl.Tensor {
	c := x.Dims()[1]
	return name(b.net.AddScaleNd(x, dsl.ScaleChannel, b.weights(c), b.weights(c), dsl.Weights{}, 1).Output(0), n)
}

func (b *builder) act(n string, x *dsl.Tensor, a dsl.ActivationType) *dsl.Tensor {
	return name(b.net.AddActivation(x, a).Output(0), n)
}

func (b *builder) ew(n string, x, y *dsl.Tensor, op dsl.ElementWiseOperation) *dsl.Tensor {
	return name(b.net.AddElementWise(x, y, op).Output(0), n)
}

func (b *builder) unary(n string, x *dsl.Tensor, op dsl.UnaryOperation) *dsl.Tensor {
	return name(b.net.AddUnary(x, op).Output(0), n)
}

func (b *builder) reduce(n string, x *dsl.Tensor, op dsl.ReduceOperation, axes uint32) *dsl.Tensor {
	return name(b.net.AddReduce(x, op, axes, true).Output(0), n)
}

func (b *builder) matmul(n string, x, w *dsl.Tensor) *dsl.Tensor {
	return name(b.net.AddMatrixMultiply(x, dsl.MatrixOpNone, w, dsl.MatrixOpNone).Output(0), n)
}

func (b *builder) output(ts ...*dsl.Tensor) *dsl.Network {
	for _, t := range ts {
		b.net.MarkOutput(t)
	}
	return b.net
}

// fuse runs Fuse on net, checks the result with ir.Check and against the
// CPU engine, and returns it.
func fuse(t *testing.T, net *dsl.Network) *ir.Graph {
	t.Helper()
	if err := net.Err(); err != nil {
		t.Fatalf("test network: %v", err)
	}
	g := ir.New(net)
	ng, err := Fuse(g, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ir.Check(ng); err != nil {
		t.Fatal(err)
	}
	if len(g.Fusions) != 0 {
		t.Fatalf("Fuse modified its input's fusions: %v", describe(g))
	}
	irtest.Differential(t, net, ng.Net, 0)
	return ng
}

// describe formats fusions as "Kind[member member ...]".
func describe(g *ir.Graph) []string {
	var out []string
	for _, f := range g.Fusions {
		out = append(out, fmt.Sprintf("%v[%s]", f.Kind, strings.Join(f.Names(), " ")))
	}
	return out
}

// wantGroups fails unless g's fusions are exactly want, in order.
func wantGroups(t *testing.T, g *ir.Graph, want ...string) {
	t.Helper()
	got := describe(g)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("fusions:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
