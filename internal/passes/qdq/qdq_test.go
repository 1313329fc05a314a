package qdq

import (
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/tensor"
)

func scalar(net *dsl.Network, v float64) *dsl.Tensor {
	t, _ := tensor.FromFloat64s(dsl.Float32, []int64{}, []float64{v})
	return net.AddConstant(dsl.Dims{}, dsl.NewWeights(t)).Output(0)
}

func constant(net *dsl.Network, dt dsl.DataType, dims dsl.Dims, v ...float64) *dsl.Tensor {
	t, err := tensor.FromFloat64s(dt, dims, v)
	if err != nil {
		panic(err)
	}
	return net.AddConstant(dims, dsl.NewWeights(t)).Output(0)
}

func shape(net *dsl.Network, v ...int64) *dsl.Tensor {
	return net.AddConstant(dsl.Dims{int64(len(v))}, dsl.Int64Weights(v...)).Output(0)
}

func dq(net *dsl.Network, x *dsl.Tensor, s float64) *dsl.Tensor {
	return net.AddDequantize(x, scalar(net, s), dsl.Float32).Output(0)
}

// kinds lists the layer kinds of net other than constants, with the type
// of each layer's first input.
func kinds(net *dsl.Network) string {
	var s []string
	for _, l := range net.Layers() {
		if l.Type() == dsl.LayerConstant {
			continue
		}
		s = append(s, l.Type().String()+"("+l.Input(0).Type().String()+")")
	}
	return strings.Join(s, ",")
}

// run applies the pass and checks the result: verified, and the same
// outputs bit for bit on the CPU engine.
func run(t *testing.T, net *dsl.Network) (*ir.Graph, bool) {
	t.Helper()
	if err := net.Err(); err != nil {
		t.Fatalf("test network: %v", err)
	}
	before := kinds(net)
	g := ir.New(net)
	out, err := Propagate(g, ir.Options{OptLevel: 3})
	if err != nil {
		t.Fatal(err)
	}
	if kinds(net) != before {
		t.Fatalf("the pass modified its input network: %s, was %s", kinds(net), before)
	}
	if out == g {
		return out, false
	}
	if err := ir.Check(out); err != nil {
		t.Fatal(err)
	}
	irtest.Differential(t, net, out.Net, 0)
	return out, true
}

func TestRewrites(t *testing.T) {
	cases := []struct {
		name  string
		build func(net *dsl.Network) []*dsl.Tensor
		want  string // layer kinds after ("" when nothing changes)
	}{
		{"shuffle", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 3, 4})
			s := net.AddShuffle(dq(net, x, 0.05))
			s.SetFirstTranspose(dsl.Permutation{2, 0, 1})
			s.SetReshapeDimensions(dsl.Dims{4, 6})
			return []*dsl.Tensor{s.Output(0)}
		}, "Shuffle(int8),Dequantize(int8)"},
		{"chain-then-quantize", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{-1, 3, 4})
			y := net.AddSlice(dq(net, x, 0.05), dsl.Dims{0, 1, 0}, dsl.Dims{1, 2, 4}, dsl.Dims{1, 1, 1}).Output(0)
			y = net.AddUnsqueeze(y, shape(net, 0)).Output(0)
			y = net.AddSqueeze(y, shape(net, 0, 1)).Output(0)
			return []*dsl.Tensor{net.AddQuantize(y, scalar(net, 0.05), dsl.Int8).Output(0)}
		}, "Slice(int8),Unsqueeze(int8),Squeeze(int8)"},
		{"slice-fill-zeros", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 3})
			s := net.AddSlice(dq(net, x, 0.5), dsl.Dims{-1, -1}, dsl.Dims{4, 5}, dsl.Dims{1, 1})
			s.SetMode(dsl.SampleFill)
			return []*dsl.Tensor{s.Output(0)}
		}, "Slice(int8),Dequantize(int8)"},
		{"concat", func(net *dsl.Network) []*dsl.Tensor {
			a := net.AddInput("a", dsl.Int8, dsl.Dims{2, 3})
			b := net.AddInput("b", dsl.Int8, dsl.Dims{2, 5})
			c := net.AddConcatenation([]*dsl.Tensor{dq(net, a, 0.25), dq(net, b, 0.25)})
			c.SetAxis(1)
			return []*dsl.Tensor{c.Output(0)}
		}, "Concatenation(int8),Dequantize(int8)"},
		{"fp8-relu", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.FP8E4M3, dsl.Dims{2, 8})
			return []*dsl.Tensor{net.AddActivation(dq(net, x, 3), dsl.ActivationReLU).Output(0)}
		}, "Activation(fp8e4m3),Dequantize(fp8e4m3)"},
		{"cancel-int8", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 8})
			return []*dsl.Tensor{net.AddQuantize(dq(net, x, 0.1), scalar(net, 0.1), dsl.Int8).Output(0)}
		}, "Identity(int8)"},
		{"cancel-int4", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int4, dsl.Dims{2, 8})
			y := net.AddQuantize(dq(net, x, 0.3), scalar(net, 0.3), dsl.Int4).Output(0)
			return []*dsl.Tensor{dq(net, y, 2)}
		}, "Dequantize(int4)"},
		{"cancel-fp8-float16", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.FP8E4M3, dsl.Dims{2, 8})
			y := net.AddDequantize(x, scalar(net, 0.5), dsl.Float16).Output(0)
			y = net.AddQuantize(y, scalar(net, 0.5), dsl.FP8E4M3).Output(0)
			return []*dsl.Tensor{net.AddDequantize(y, scalar(net, 0.5), dsl.Float32).Output(0)}
		}, "Dequantize(fp8e4m3)"},
		{"cancel-per-channel", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 3})
			d := net.AddDequantize(x, constant(net, dsl.Float32, dsl.Dims{3}, 0.1, 0.2, 0.3), dsl.Float32)
			d.SetAxis(1)
			q := net.AddQuantize(d.Output(0), constant(net, dsl.Float32, dsl.Dims{3}, 0.1, 0.2, 0.3), dsl.Int8)
			q.SetAxis(1)
			return []*dsl.Tensor{q.Output(0)}
		}, "Identity(int8)"},
		{"two-readers", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 3})
			y := dq(net, x, 0.05)
			s := net.AddShuffle(y)
			s.SetReshapeDimensions(dsl.Dims{3, 2})
			return []*dsl.Tensor{s.Output(0), net.AddActivation(y, dsl.ActivationTanh).Output(0)}
		}, "Shuffle(int8),Dequantize(int8),Activation(float32),Dequantize(int8)"},
		{"qat-block", func(net *dsl.Network) []*dsl.Tensor {
			// x -> Q -> DQ -> Shuffle -> Q -> DQ -> MatMul with a
			// dequantized int8 weight: the data moves as int8 and the
			// weight's Dequantize stays.
			x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 4, 2})
			s := 0.02
			y := net.AddQuantize(x, scalar(net, s), dsl.Int8).Output(0)
			sh := net.AddShuffle(dq(net, y, s))
			sh.SetReshapeDimensions(dsl.Dims{0, 8})
			y = net.AddQuantize(sh.Output(0), scalar(net, s), dsl.Int8).Output(0)
			wq := constant(net, dsl.Int8, dsl.Dims{8, 3}, -3, 5, 7, 1, -2, 0, 4, 4, -8, 9, 1, 2, 3, -5, 6, 7, 8, 1, -1, 2, 3, 4, 5, 6)
			w := dq(net, wq, 0.1)
			return []*dsl.Tensor{net.AddMatrixMultiply(dq(net, y, s), dsl.MatrixOpNone, w, dsl.MatrixOpNone).Output(0)}
		}, "Quantize(float32),Shuffle(int8),Dequantize(int8),Dequantize(int8),MatrixMultiply(float32)"},
		// What stays.
		{"int8-relu", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 8})
			return []*dsl.Tensor{net.AddActivation(dq(net, x, 3), dsl.ActivationReLU).Output(0)}
		}, ""},
		{"fp8-sigmoid", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.FP8E4M3, dsl.Dims{2, 8})
			return []*dsl.Tensor{net.AddActivation(dq(net, x, 3), dsl.ActivationSigmoid).Output(0)}
		}, ""},
		{"per-channel-shuffle", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 3})
			d := net.AddDequantize(x, constant(net, dsl.Float32, dsl.Dims{3}, 0.1, 0.2, 0.3), dsl.Float32)
			d.SetAxis(1)
			s := net.AddShuffle(d.Output(0))
			s.SetFirstTranspose(dsl.Permutation{1, 0})
			return []*dsl.Tensor{s.Output(0)}
		}, ""},
		{"zero-point", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 3})
			d := net.AddDequantize(x, scalar(net, 0.5), dsl.Float32)
			d.SetInput(2, constant(net, dsl.Int8, dsl.Dims{}, 3))
			s := net.AddShuffle(d.Output(0))
			s.SetFirstTranspose(dsl.Permutation{1, 0})
			return []*dsl.Tensor{s.Output(0)}
		}, ""},
		{"slice-fill-value", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 3})
			s := net.AddSlice(dq(net, x, 0.5), dsl.Dims{-1, -1}, dsl.Dims{4, 5}, dsl.Dims{1, 1})
			s.SetMode(dsl.SampleFill)
			s.SetInput(4, scalar(net, 7))
			return []*dsl.Tensor{s.Output(0)}
		}, ""},
		{"concat-different-scales", func(net *dsl.Network) []*dsl.Tensor {
			a := net.AddInput("a", dsl.Int8, dsl.Dims{2, 3})
			b := net.AddInput("b", dsl.Int8, dsl.Dims{2, 5})
			c := net.AddConcatenation([]*dsl.Tensor{dq(net, a, 0.25), dq(net, b, 0.5)})
			c.SetAxis(1)
			return []*dsl.Tensor{c.Output(0)}
		}, ""},
		{"concat-float-input", func(net *dsl.Network) []*dsl.Tensor {
			a := net.AddInput("a", dsl.Int8, dsl.Dims{2, 3})
			b := net.AddInput("b", dsl.Float32, dsl.Dims{2, 5})
			c := net.AddConcatenation([]*dsl.Tensor{dq(net, a, 0.25), b})
			c.SetAxis(1)
			return []*dsl.Tensor{c.Output(0)}
		}, ""},
		{"shuffle-to-scalar", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{1})
			s := net.AddShuffle(dq(net, x, 0.5))
			s.SetReshapeDimensions(dsl.Dims{})
			return []*dsl.Tensor{s.Output(0)}
		}, ""},
		{"quantize-other-scale", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 8})
			return []*dsl.Tensor{net.AddQuantize(dq(net, x, 0.1), scalar(net, 0.2), dsl.Int8).Output(0)}
		}, ""},
		{"quantize-other-type", func(net *dsl.Network) []*dsl.Tensor {
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 8})
			return []*dsl.Tensor{net.AddQuantize(dq(net, x, 0.1), scalar(net, 0.1), dsl.FP8E4M3).Output(0)}
		}, ""},
		{"float16-tiny-scale", func(net *dsl.Network) []*dsl.Tensor {
			// x * 1e-8 is subnormal in float16, rounded to multiples of
			// 2^-24 (6e-8): the codes do not survive.
			x := net.AddInput("x", dsl.Int8, dsl.Dims{2, 8})
			y := net.AddDequantize(x, scalar(net, 1e-8), dsl.Float16).Output(0)
			return []*dsl.Tensor{net.AddQuantize(y, scalar(net, 1e-8), dsl.Int8).Output(0)}
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			net := dsl.NewNetwork()
			for i, o := range tc.build(net) {
				o.SetName("out" + string(rune('0'+i)))
				net.MarkOutput(o)
			}
			out, changed := run(t, net)
			if tc.want == "" {
				if changed {
					t.Fatalf("the pass rewrote the network: %s", kinds(out.Net))
				}
				return
			}
			if !changed {
				t.Fatalf("nothing changed: %s", kinds(net))
			}
			if got := kinds(out.Net); got != tc.want {
				t.Errorf("layers after: %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestRoundTrips checks the exhaustive round-trip check on cases known
// either way.
func TestRoundTrips(t *testing.T) {
	cases := []struct {
		qt, ft dsl.DataType
		s      float64
		want   bool
	}{
		{dsl.Int8, dsl.Float32, 0.1, true},
		{dsl.Int8, dsl.Float32, 1e-30, true},
		{dsl.Int8, dsl.Float32, 1e-44, true},     // subnormal, but an integer times a float32 is exact there
		{dsl.FP8E4M3, dsl.Float32, 1e-44, false}, // 2^-9 * s underflows to 0
		{dsl.Int8, dsl.Float32, 1e37, false},     // 127*s overflows to +Inf
		{dsl.Int8, dsl.BFloat16, 0.37, true},
		{dsl.Int8, dsl.Float16, 1e-7, true},  // half a float16 subnormal step is 0.3 s
		{dsl.Int8, dsl.Float16, 1e-8, false}, // ... and here 3 s
		{dsl.Int8, dsl.Float16, 1000, false}, // 127000 overflows float16
		{dsl.Int4, dsl.Float16, 1000, true},
		{dsl.FP8E4M3, dsl.Float32, 0.01, true},
		{dsl.FP8E4M3, dsl.BFloat16, 3, true},
		{dsl.FP8E4M3, dsl.Float16, 1e-4, true},
		{dsl.FP8E4M3, dsl.Float16, 1e-6, false},
		{dsl.UInt8, dsl.Float32, 1, false}, // not a Quantize type
	}
	for _, c := range cases {
		if got := roundTrips(c.qt, c.ft, []float64{c.s}); got != c.want {
			t.Errorf("roundTrips(%v, %v, %g) = %v, want %v", c.qt, c.ft, c.s, got, c.want)
		}
	}
}
