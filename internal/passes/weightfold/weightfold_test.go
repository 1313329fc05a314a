package weightfold

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/dsl/nn"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/tensor"
)

var rng = rand.New(rand.NewPCG(7, 11))

// randW returns weights of the given type and shape, uniform in [-1, 1)
// and never zero.
func randW(dt dsl.DataType, shape ...int64) dsl.Weights {
	n := tensor.Volume(shape)
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.Float64()*1.8 - 0.9
		if v[i] >= 0 {
			v[i] += 0.1
		} else {
			v[i] -= 0.1
		}
	}
	t, err := tensor.FromFloat64s(dt, shape, v)
	if err != nil {
		panic(err)
	}
	return dsl.NewWeights(t)
}

func vals(dt dsl.DataType, shape []int64, v ...float64) dsl.Weights {
	t, err := tensor.FromFloat64s(dt, shape, v)
	if err != nil {
		panic(err)
	}
	return dsl.NewWeights(t)
}

func named[L dsl.Layer](l L, name string) L { l.SetName(name); return l }

// conv adds a named convolution of x with k output maps and a 3x3 kernel.
func conv(net *dsl.Network, x *dsl.Tensor, name string, k int64, bias bool) *dsl.ConvolutionLayer {
	c := x.Dims()[1]
	var b dsl.Weights
	if bias {
		b = randW(x.Type(), k)
	}
	l := net.AddConvolutionNd(x, k, dsl.Dims{3, 3}, randW(x.Type(), k, c, 3, 3), b)
	l.SetPaddingNd(dsl.Dims{1, 1})
	l.SetName(name)
	return l
}

// bn adds a batch norm (a channel-mode Scale) named name.
func bn(net *dsl.Network, x *dsl.Tensor, name string) *dsl.Tensor {
	k := int(x.Dims()[1])
	p := nn.BatchNormParams{Eps: 1e-5}
	for range k {
		p.Gamma = append(p.Gamma, float32(0.5+rng.Float64()))
		p.Beta = append(p.Beta, float32(rng.Float64()-0.5))
		p.Mean = append(p.Mean, float32(rng.Float64()-0.5))
		p.Var = append(p.Var, float32(0.5+rng.Float64()))
	}
	y := nn.BatchNorm(net, x, p)
	l, _ := y.Producer()
	l.SetName(name)
	return y
}

func kinds(net *dsl.Network) string {
	var s []string
	for _, l := range net.Layers() {
		s = append(s, l.Type().String())
	}
	return strings.Join(s, ",")
}

// run applies the pass and checks the result with the verifier and the
// CPU engine, at the tolerance of a sum of scale terms.
func run(t *testing.T, net *dsl.Network, scale int) *ir.Graph {
	t.Helper()
	if err := net.Err(); err != nil {
		t.Fatalf("test network: %v", err)
	}
	before := kinds(net)
	g := ir.New(net)
	out, err := ScaleIntoConv(g, ir.Options{OptLevel: 3})
	if err != nil {
		t.Fatal(err)
	}
	if kinds(net) != before {
		t.Fatalf("the pass modified its input network: %s, was %s", kinds(net), before)
	}
	if err := ir.Check(out); err != nil {
		t.Fatal(err)
	}
	irtest.Differential(t, net, out.Net, scale)
	return out
}

func TestConvBatchNorm(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{-1, 3, 8, 8})
	w, b := randW(dsl.Float32, 4, 3, 3, 3), randW(dsl.Float32, 4)
	y := nn.Conv2d(net, x, w, b, nn.Conv2dOptions{Padding: [2]int64{1, 1}})
	l, _ := y.Producer()
	l.SetName("conv1")
	y = bn(net, y, "bn1")
	net.MarkOutput(net.AddActivation(y, dsl.ActivationReLU).Output(0))
	g := ir.New(net)
	g.Precisions["conv1"] = ir.PrecisionDecision{Type: dsl.Float32, Reason: "test"}
	out, err := ScaleIntoConv(g, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(out.Net); got != "Convolution,Activation" {
		t.Fatalf("layers after: %s", got)
	}
	if name := out.Net.Layer(0).Name(); name != "conv1+bn1" {
		t.Errorf("folded layer is named %q, want conv1+bn1", name)
	}
	if _, ok := out.Precisions["conv1+bn1"]; !ok {
		t.Errorf("the convolution's precision decision was not carried over: %v", out.Precisions)
	}
	if err := ir.Check(out); err != nil {
		t.Fatal(err)
	}
	irtest.Differential(t, net, out.Net, 3*3*3)
}

// TestFolds covers each follower the pass folds, on convolutions and
// deconvolutions, with and without groups and bias, in float32 and float16.
func TestFolds(t *testing.T) {
	type build func(net *dsl.Network, x *dsl.Tensor) *dsl.Tensor
	k := int64(4)
	scale := func(mode dsl.ScaleMode, shift, sc, pw dsl.Weights) build {
		return func(net *dsl.Network, y *dsl.Tensor) *dsl.Tensor {
			return named(net.AddScaleNd(y, mode, shift, sc, pw, 1), "s").Output(0)
		}
	}
	constEW := func(op dsl.ElementWiseOperation, dims dsl.Dims, first bool) build {
		return func(net *dsl.Network, y *dsl.Tensor) *dsl.Tensor {
			c := net.AddConstant(dims, randW(y.Type(), dims.Volume())).Output(0)
			if !first {
				return named(net.AddElementWise(c, y, op), "ew").Output(0)
			}
			return named(net.AddElementWise(y, c, op), "ew").Output(0)
		}
	}
	perChannelElementwise := func(net *dsl.Network, y *dsl.Tensor) *dsl.Tensor {
		// Elementwise mode over [C, H, W] with one value per channel.
		d := y.Dims()
		hw := d[2] * d[3]
		v := make([]float64, 0, k*hw)
		for c := range k {
			for range hw {
				v = append(v, 0.5+float64(c)/4)
			}
		}
		return named(net.AddScaleNd(y, dsl.ScaleElementwise, dsl.Weights{}, vals(dsl.Float32, []int64{k * hw}, v...), dsl.Weights{}, 1), "s").Output(0)
	}
	cases := []struct {
		name   string
		dt     dsl.DataType
		deconv bool
		groups int64
		bias   bool
		follow []build
		want   string // layer kinds after
	}{
		{"channel", dsl.Float32, false, 1, true, []build{scale(dsl.ScaleChannel, randW(dsl.Float32, k), randW(dsl.Float32, k), dsl.Weights{})}, "Convolution"},
		{"channel-no-bias", dsl.Float32, false, 1, false, []build{scale(dsl.ScaleChannel, randW(dsl.Float32, k), randW(dsl.Float32, k), dsl.Weights{})}, "Convolution"},
		{"uniform-power-1", dsl.Float32, false, 1, true, []build{scale(dsl.ScaleUniform, vals(dsl.Float32, []int64{1}, 0.25), vals(dsl.Float32, []int64{1}, -1.5), vals(dsl.Float32, []int64{1}, 1))}, "Convolution"},
		{"shift-only", dsl.Float32, false, 1, true, []build{scale(dsl.ScaleChannel, randW(dsl.Float32, k), dsl.Weights{}, dsl.Weights{})}, "Convolution"},
		{"elementwise-per-channel", dsl.Float32, false, 1, true, []build{perChannelElementwise}, "Convolution"},
		{"groups", dsl.Float32, false, 2, true, []build{scale(dsl.ScaleChannel, randW(dsl.Float32, k), randW(dsl.Float32, k), dsl.Weights{})}, "Convolution"},
		{"deconv", dsl.Float32, true, 1, true, []build{scale(dsl.ScaleChannel, randW(dsl.Float32, k), randW(dsl.Float32, k), dsl.Weights{})}, "Deconvolution"},
		{"deconv-groups", dsl.Float32, true, 2, false, []build{scale(dsl.ScaleChannel, randW(dsl.Float32, k), randW(dsl.Float32, k), dsl.Weights{})}, "Deconvolution"},
		{"float16", dsl.Float16, false, 1, true, []build{scale(dsl.ScaleChannel, randW(dsl.Float16, k), randW(dsl.Float16, k), dsl.Weights{})}, "Convolution"},
		{"bfloat16-deconv", dsl.BFloat16, true, 2, true, []build{scale(dsl.ScaleChannel, randW(dsl.Float32, k), randW(dsl.Float32, k), dsl.Weights{})}, "Deconvolution"},
		{"sum", dsl.Float32, false, 1, true, []build{constEW(dsl.ElementWiseSum, dsl.Dims{1, k, 1, 1}, true)}, "Convolution"},
		{"sum-first-operand", dsl.Float32, false, 1, false, []build{constEW(dsl.ElementWiseSum, dsl.Dims{1, k, 1, 1}, false)}, "Convolution"},
		{"sum-scalar", dsl.Float32, false, 1, true, []build{constEW(dsl.ElementWiseSum, dsl.Dims{1, 1, 1, 1}, true)}, "Convolution"},
		{"sub", dsl.Float32, false, 1, true, []build{constEW(dsl.ElementWiseSub, dsl.Dims{1, k, 1, 1}, true)}, "Convolution"},
		{"sub-reversed", dsl.Float32, false, 1, true, []build{constEW(dsl.ElementWiseSub, dsl.Dims{1, k, 1, 1}, false)}, "Convolution"},
		{"prod", dsl.Float32, false, 1, true, []build{constEW(dsl.ElementWiseProd, dsl.Dims{1, k, 1, 1}, true)}, "Convolution"},
		{"float16-sum", dsl.Float16, true, 1, false, []build{constEW(dsl.ElementWiseSum, dsl.Dims{1, k, 1, 1}, true)}, "Deconvolution"},
		{"chain", dsl.Float32, false, 1, true, []build{
			scale(dsl.ScaleChannel, randW(dsl.Float32, k), randW(dsl.Float32, k), dsl.Weights{}),
			constEW(dsl.ElementWiseProd, dsl.Dims{1, k, 1, 1}, true),
			constEW(dsl.ElementWiseSum, dsl.Dims{1, k, 1, 1}, false),
		}, "Convolution"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			net := dsl.NewNetwork()
			x := net.AddInput("x", tc.dt, dsl.Dims{-1, 4, 6, 6})
			var y *dsl.Tensor
			c := x.Dims()[1]
			var b dsl.Weights
			if tc.bias {
				b = randW(tc.dt, k)
			}
			if tc.deconv {
				l := net.AddDeconvolutionNd(x, k, dsl.Dims{3, 3}, randW(tc.dt, c, k/tc.groups, 3, 3), b)
				l.SetNbGroups(tc.groups)
				l.SetStrideNd(dsl.Dims{2, 2})
				y = named(l, "conv").Output(0)
			} else {
				l := net.AddConvolutionNd(x, k, dsl.Dims{3, 3}, randW(tc.dt, k, c/tc.groups, 3, 3), b)
				l.SetNbGroups(tc.groups)
				l.SetPaddingNd(dsl.Dims{1, 1})
				y = named(l, "conv").Output(0)
			}
			for _, f := range tc.follow {
				y = f(net, y)
			}
			y.SetName("y")
			net.MarkOutput(y)
			out := run(t, net, int(c*9))
			if got := kinds(out.Net); got != tc.want {
				t.Fatalf("layers after: %s, want %s", got, tc.want)
			}
			if n := out.Net.Layer(0).Name(); !strings.HasPrefix(n, "conv+") {
				t.Errorf("folded layer named %q", n)
			}
			if o := out.Net.Output(0); o.Name() != "y" || o.Type() != tc.dt {
				t.Errorf("output is %q %v, want \"y\" %v", o.Name(), o.Type(), tc.dt)
			}
		})
	}
}

// TestNoFold covers what must stay: followers that are not per-channel
// affine maps, and convolutions whose output something else reads.
func TestNoFold(t *testing.T) {
	k := int64(4)
	cases := []struct {
		name  string
		build func(net *dsl.Network, y *dsl.Tensor) []*dsl.Tensor
	}{
		{"power-2", func(net *dsl.Network, y *dsl.Tensor) []*dsl.Tensor {
			return []*dsl.Tensor{net.AddScaleNd(y, dsl.ScaleChannel, dsl.Weights{}, randW(dsl.Float32, k), vals(dsl.Float32, []int64{k}, 1, 1, 2, 1), 1).Output(0)}
		}},
		{"channel-axis-2", func(net *dsl.Network, y *dsl.Tensor) []*dsl.Tensor {
			return []*dsl.Tensor{net.AddScaleNd(y, dsl.ScaleChannel, randW(dsl.Float32, 6), dsl.Weights{}, dsl.Weights{}, 2).Output(0)}
		}},
		{"elementwise-varying", func(net *dsl.Network, y *dsl.Tensor) []*dsl.Tensor {
			return []*dsl.Tensor{net.AddScaleNd(y, dsl.ScaleElementwise, dsl.Weights{}, randW(dsl.Float32, k*36), dsl.Weights{}, 1).Output(0)}
		}},
		{"two-readers", func(net *dsl.Network, y *dsl.Tensor) []*dsl.Tensor {
			s := net.AddScaleNd(y, dsl.ScaleChannel, randW(dsl.Float32, k), dsl.Weights{}, dsl.Weights{}, 1).Output(0)
			return []*dsl.Tensor{s, net.AddActivation(y, dsl.ActivationReLU).Output(0)}
		}},
		{"conv-is-output", func(net *dsl.Network, y *dsl.Tensor) []*dsl.Tensor {
			s := net.AddScaleNd(y, dsl.ScaleChannel, randW(dsl.Float32, k), dsl.Weights{}, dsl.Weights{}, 1).Output(0)
			return []*dsl.Tensor{s, y}
		}},
		{"sum-spatial-constant", func(net *dsl.Network, y *dsl.Tensor) []*dsl.Tensor {
			c := net.AddConstant(dsl.Dims{1, k, 6, 6}, randW(dsl.Float32, k*36)).Output(0)
			return []*dsl.Tensor{net.AddElementWise(y, c, dsl.ElementWiseSum).Output(0)}
		}},
		{"sum-broadcasting-batch", func(net *dsl.Network, y *dsl.Tensor) []*dsl.Tensor {
			c := net.AddConstant(dsl.Dims{3, k, 1, 1}, randW(dsl.Float32, 3*k)).Output(0)
			return []*dsl.Tensor{net.AddElementWise(y, c, dsl.ElementWiseSum).Output(0)}
		}},
		{"sum-tensor", func(net *dsl.Network, y *dsl.Tensor) []*dsl.Tensor {
			z := net.AddInput("z", dsl.Float32, dsl.Dims{1, k, 1, 1})
			return []*dsl.Tensor{net.AddElementWise(y, z, dsl.ElementWiseSum).Output(0)}
		}},
		{"div", func(net *dsl.Network, y *dsl.Tensor) []*dsl.Tensor {
			c := net.AddConstant(dsl.Dims{1, k, 1, 1}, randW(dsl.Float32, k)).Output(0)
			return []*dsl.Tensor{net.AddElementWise(y, c, dsl.ElementWiseDiv).Output(0)}
		}},
		{"kernel-tensor", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			net := dsl.NewNetwork()
			x := net.AddInput("x", dsl.Float32, dsl.Dims{1, 3, 6, 6})
			var y *dsl.Tensor
			if tc.build == nil {
				kt := net.AddConstant(dsl.Dims{k, 3, 3, 3}, randW(dsl.Float32, k*27)).Output(0)
				l := net.AddConvolutionNd(x, k, dsl.Dims{3, 3}, dsl.Weights{}, dsl.Weights{})
				l.SetInput(1, kt)
				l.SetPaddingNd(dsl.Dims{1, 1})
				y = l.Output(0)
				net.MarkOutput(net.AddScaleNd(y, dsl.ScaleChannel, randW(dsl.Float32, k), dsl.Weights{}, dsl.Weights{}, 1).Output(0))
			} else {
				y = conv(net, x, "conv", k, true).Output(0)
				for _, o := range tc.build(net, y) {
					net.MarkOutput(o)
				}
			}
			if err := net.Err(); err != nil {
				t.Fatal(err)
			}
			g := ir.New(net)
			out, err := ScaleIntoConv(g, ir.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if out != g {
				t.Fatalf("the pass rewrote the network: %s", kinds(out.Net))
			}
		})
	}
}

// TestChainAndSharedConstant: two convolutions share one bias constant;
// both fold, the constant goes, and a relu after each stays.
func TestChainAndSharedConstant(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 3, 5, 5})
	c := net.AddConstant(dsl.Dims{1, 4, 1, 1}, randW(dsl.Float32, 4)).Output(0)
	for i, name := range []string{"a", "b"} {
		y := conv(net, x, name, 4, i == 0).Output(0)
		y = bn(net, y, name+"_bn")
		y = named(net.AddElementWise(y, c, dsl.ElementWiseSum), name+"_add").Output(0)
		y = net.AddActivation(y, dsl.ActivationReLU).Output(0)
		y.SetName(name)
		net.MarkOutput(y)
	}
	out := run(t, net, 27)
	if got := kinds(out.Net); got != "Convolution,Activation,Convolution,Activation" {
		t.Fatalf("layers after: %s", got)
	}
	if n := out.Net.Layer(2).Name(); n != "b+b_bn+b_add" {
		t.Errorf("second folded layer is %q", n)
	}
}

// TestConvFeedsConv: a folded convolution feeding another one, which folds
// its own batch norm; the constant the network outputs stays.
func TestConvFeedsConv(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{1, 3, 6, 6})
	y := bn(net, conv(net, x, "c1", 5, true).Output(0), "bn1")
	y = bn(net, conv(net, y, "c2", 4, false).Output(0), "bn2")
	net.MarkOutput(y)
	k := net.AddConstant(dsl.Dims{2}, randW(dsl.Float32, 2)).Output(0)
	k.SetName("k")
	net.MarkOutput(k)
	out := run(t, net, 45)
	if got := kinds(out.Net); got != "Convolution,Convolution,Constant" {
		t.Fatalf("layers after: %s", got)
	}
}
