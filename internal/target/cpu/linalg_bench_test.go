package cpu

import (
	"context"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// linalgBench times one layer on fixed random inputs.
func linalgBench(b *testing.B, net *dsl.Network, inputs map[string]*tensor.Tensor) {
	e, err := New(net)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.Run(context.Background(), inputs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatrixMultiplyAttentionScores(b *testing.B) {
	// [batch*heads, seq, dim] × [batch*heads, seq, dim]^T.
	rng := newRNG(90)
	q, _ := randTensor(b, rng, tensor.Float32, 16, 128, 64)
	k, _ := randTensor(b, rng, tensor.Float32, 16, 128, 64)
	net := dsl.NewNetwork()
	l := net.AddMatrixMultiply(net.AddInput("q", tensor.Float32, dsl.Dims{16, 128, 64}), dsl.MatrixOpNone,
		net.AddInput("k", tensor.Float32, dsl.Dims{16, 128, 64}), dsl.MatrixOpTranspose)
	net.MarkOutput(l.Output(0))
	linalgBench(b, net, map[string]*tensor.Tensor{"q": q, "k": k})
}

func BenchmarkSoftMaxRows(b *testing.B) {
	x, _ := randTensor(b, newRNG(91), tensor.Float32, 16, 128, 128)
	net := dsl.NewNetwork()
	l := net.AddSoftMax(net.AddInput("x", tensor.Float32, dsl.Dims{16, 128, 128}))
	l.SetAxes(4)
	net.MarkOutput(l.Output(0))
	linalgBench(b, net, map[string]*tensor.Tensor{"x": x})
}

func BenchmarkLayerNorm(b *testing.B) {
	rng := newRNG(92)
	x, _ := randTensor(b, rng, tensor.Float32, 8, 128, 768)
	s, _ := randTensor(b, rng, tensor.Float32, 1, 1, 768)
	bi, _ := randTensor(b, rng, tensor.Float32, 1, 1, 768)
	net := dsl.NewNetwork()
	l := net.AddNormalizationV2(net.AddInput("x", tensor.Float32, dsl.Dims{8, 128, 768}),
		net.AddInput("s", tensor.Float32, dsl.Dims{1, 1, 768}), net.AddInput("b", tensor.Float32, dsl.Dims{1, 1, 768}), 4)
	net.MarkOutput(l.Output(0))
	linalgBench(b, net, map[string]*tensor.Tensor{"x": x, "s": s, "b": bi})
}
