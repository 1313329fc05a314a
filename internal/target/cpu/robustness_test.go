package cpu

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// TestEveryLayerSurvivesBadInput feeds every Add* method odd inputs (nil, a
// tensor of another network, scalars, empty and dynamic tensors of several
// types). Whatever the DSL accepts must run on the CPU engine; whatever it
// rejects must be rejected with a diagnostic. In neither case may inference
// or a kernel panic or disagree with the other: both show up as
// diag.Internal, which this test forbids.
func TestEveryLayerSurvivesBadInput(t *testing.T) {
	type builder func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor
	one := func(l dsl.Layer) []*dsl.Tensor {
		var out []*dsl.Tensor
		for i := 0; i < l.NbOutputs(); i++ {
			out = append(out, l.Output(i))
		}
		return out
	}
	i64 := func(n *dsl.Network, v ...int64) *dsl.Tensor {
		return n.AddConstant(dsl.Dims{int64(len(v))}, dsl.Int64Weights(v...)).Output(0)
	}
	scalar := func(n *dsl.Network, v int64) *dsl.Tensor {
		return n.AddConstant(dsl.Dims{}, dsl.Int64Weights(v)).Output(0)
	}
	builders := map[string]builder{
		"Activation": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddActivation(x, dsl.ActivationGeluTanh))
		},
		"Unary":    func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddUnary(x, dsl.UnaryAbs)) },
		"Cast":     func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddCast(x, dsl.Int32)) },
		"Identity": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddIdentity(x)) },
		"Shape":    func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddShape(x)) },
		"ElementWise": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddElementWise(x, x, dsl.ElementWiseSum))
		},
		"Select": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddSelect(x, x, x)) },
		"PReLU":  func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddParametricReLU(x, x)) },
		"Scale": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddScale(x, dsl.ScaleChannel, dsl.Float32Weights(1, 2), dsl.Weights{}, dsl.Weights{}))
		},
		"Cumulative": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddCumulative(x, scalar(n, -1), dsl.CumulativeSum, true, true))
		},
		"Convolution": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddConvolutionNd(x, 2, dsl.Dims{1, 1}, dsl.Float32Weights(1, 2, 3, 4, 5, 6), dsl.Weights{}))
		},
		"Deconvolution": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddDeconvolutionNd(x, 2, dsl.Dims{1, 1}, dsl.Float32Weights(1, 2, 3, 4, 5, 6), dsl.Weights{}))
		},
		"Pooling": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddPoolingNd(x, dsl.PoolingMax, dsl.Dims{2, 2}))
		},
		"LRN": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddLRN(x, 3, 1e-4, 0.75, 1)) },
		"Padding": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddPaddingNd(x, dsl.Dims{1, 1}, dsl.Dims{-1, 2}))
		},
		"Resize": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			r := n.AddResize(x)
			r.SetScales([]float32{1, 1, 2, 2})
			return one(r)
		},
		"GridSample": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddGridSample(x, x)) },
		"MatrixMultiply": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddMatrixMultiply(x, dsl.MatrixOpNone, x, dsl.MatrixOpTranspose))
		},
		"Einsum": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddEinsum([]*dsl.Tensor{x, x}, "ij,kj->ik"))
		},
		"SoftMax":       func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddSoftMax(x)) },
		"RaggedSoftMax": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddRaggedSoftMax(x, x)) },
		"Reduce": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddReduce(x, dsl.ReduceAvg, 1, false))
		},
		"Normalization": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddNormalization(x, x, x, 2))
		},
		"TopK": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddTopK(x, dsl.TopKMax, 2, 1)) },
		"Shuffle": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			s := n.AddShuffle(x)
			s.SetReshapeDimensions(dsl.Dims{-1})
			return one(s)
		},
		"Slice": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddSlice(x, dsl.Dims{0, 1}, dsl.Dims{1, 2}, dsl.Dims{1, 1}))
		},
		"Concatenation": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddConcatenation([]*dsl.Tensor{x, x}))
		},
		"Gather": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddGather(x, i64(n, 0, -1), 0)) },
		"GatherND": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddGatherV2(x, x, dsl.GatherND))
		},
		"Scatter": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddScatter(x, x, x, dsl.ScatterElement))
		},
		"Squeeze":   func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddSqueeze(x, i64(n, 0))) },
		"Unsqueeze": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddUnsqueeze(x, i64(n, -1))) },
		"OneHot": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddOneHot(x, x, scalar(n, 3), -1))
		},
		"NonZero":         func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddNonZero(x)) },
		"ReverseSequence": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor { return one(n.AddReverseSequence(x, x)) },
		"NMS": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddNMS(x, x, x, dsl.Int32))
		},
		"Quantize": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddQuantize(x, x, dsl.Int8))
		},
		"Dequantize": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddDequantize(x, x, dsl.Float32))
		},
		"DynamicQuantize": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddDynamicQuantizeV2(x, dsl.Dims{1, 2}, dsl.FP8E4M3, dsl.Float32))
		},
		"Attention": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddAttention(x, x, x, dsl.AttentionNormSoftmax, true))
		},
		"RotaryEmbedding": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddRotaryEmbedding(x, x, x, false, 0))
		},
		"KVCacheUpdate": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			return one(n.AddKVCacheUpdate(x, x, x, dsl.KVCacheModeLinear))
		},
		"Assertion": func(n *dsl.Network, x *dsl.Tensor) []*dsl.Tensor {
			n.AddAssertion(x, "x must hold")
			return []*dsl.Tensor{n.AddIdentity(x).Output(0)}
		},
	}
	type variant struct {
		dt   dsl.DataType
		dims dsl.Dims
		data []int64 // the concrete shape at run time
	}
	variants := []variant{
		{dsl.Float32, dsl.Dims{2, 3}, []int64{2, 3}},
		{dsl.Float32, dsl.Dims{}, []int64{}},
		{dsl.Float16, dsl.Dims{-1, 2, 3, 4}, []int64{2, 2, 3, 4}},
		{dsl.Float32, dsl.Dims{1, 2, 0, 4}, []int64{1, 2, 0, 4}},
		{dsl.BFloat16, dsl.Dims{2, 2, 2, 2, 2}, []int64{2, 2, 2, 2, 2}},
		{dsl.Int64, dsl.Dims{3}, []int64{3}},
		{dsl.Int32, dsl.Dims{2, -1}, []int64{2, 2}},
		{dsl.Bool, dsl.Dims{2}, []int64{2}},
		{dsl.Int8, dsl.Dims{2, 2}, []int64{2, 2}},
		{dsl.Int4, dsl.Dims{3}, []int64{3}},
	}
	other := dsl.NewNetwork()
	foreign := other.AddInput("foreign", dsl.Float32, dsl.Dims{2, 3})
	rng := newRNG(11)
	var ran atomic.Int64
	defer func() {
		// Most builders accept some variant; a test that rejects
		// everything checks nothing at run time.
		t.Logf("%d networks accepted and run", ran.Load())
		if ran.Load() < int64(len(builders)) {
			t.Errorf("only %d networks were accepted and run", ran.Load())
		}
	}()
	for name, build := range builders {
		for vi, v := range append(variants, variant{dims: nil}, variant{dims: dsl.Dims{-2}}) {
			t.Run(fmt.Sprintf("%s/%d", name, vi), func(t *testing.T) {
				n := dsl.NewNetwork()
				var x *dsl.Tensor
				switch {
				case v.dims == nil && vi == len(variants): // nil input
				case v.dims == nil || (len(v.dims) == 1 && v.dims[0] == -2):
					x = foreign
				default:
					x = n.AddInput("x", v.dt, v.dims)
				}
				outs := build(n, x)
				for _, o := range outs {
					n.MarkOutput(o)
				}
				diags := n.Diagnostics()
				for _, d := range diags {
					if d.Code == diag.Internal {
						t.Fatalf("internal error from inference: %v", d)
					}
				}
				if diags.HasErrors() {
					return // rejected with a diagnostic: fine
				}
				if x == nil || x == foreign {
					t.Fatalf("a nil or foreign input was accepted")
				}
				in, _ := randTensor(t, rng, v.dt, v.data...)
				_, err := func() (_ map[string]*tensor.Tensor, err error) {
					e, err := New(n)
					if err != nil {
						return nil, err
					}
					return e.Run(context.Background(), map[string]*tensor.Tensor{"x": in})
				}()
				if err != nil && errors.Is(err, diag.Internal) {
					t.Fatalf("internal error at run time: %v", err)
				}
				ran.Add(1)
			})
		}
	}
}
