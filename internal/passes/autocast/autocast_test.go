package autocast

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

var halves = []dsl.DataType{dsl.Float16, dsl.BFloat16}

// autocast runs the pass and the checks every rewrite must pass: ir.Check,
// the source graph untouched, inputs and outputs with their declared
// names, types and dims, and a decision for every layer with a float
// output.
func autocast(t *testing.T, net *dsl.Network, o ir.Options) *ir.Graph {
	t.Helper()
	g := ir.New(net)
	before := net.NbLayers()
	ng, err := Autocast(g, o)
	if err != nil {
		t.Fatalf("Autocast(%s): %v", DescribePrecision(o.Compute), err)
	}
	if err := ir.Check(ng); err != nil {
		t.Fatalf("ir.Check after Autocast: %v", err)
	}
	if net.NbLayers() != before || len(g.Precisions) != 0 {
		t.Fatal("Autocast modified its input graph")
	}
	checkIO(t, net, ng.Net)
	for _, l := range ng.Net.Layers() {
		if _, ok := floatOutput(l); ok {
			if _, ok := ng.Precisions[l.Name()]; !ok {
				t.Errorf("no precision decision for %s", dsl.LayerString(l))
			}
		}
	}
	return ng
}

func checkIO(t *testing.T, want, got *dsl.Network) {
	t.Helper()
	for _, pair := range []struct{ w, g []*dsl.Tensor }{{want.Inputs(), got.Inputs()}, {want.Outputs(), got.Outputs()}} {
		if len(pair.w) != len(pair.g) {
			t.Fatalf("%d inputs/outputs, want %d", len(pair.g), len(pair.w))
		}
		for i, w := range pair.w {
			g := pair.g[i]
			if g.Name() != w.Name() || g.Type() != w.Type() || !g.Dims().Equal(w.Dims()) {
				t.Errorf("binding %d is %v, want %v", i, g, w)
			}
		}
	}
}

// layerNamed finds the copy of a source layer by name.
func layerNamed(t *testing.T, net *dsl.Network, n string) dsl.Layer {
	t.Helper()
	for _, l := range net.Layers() {
		if l.Name() == n {
			return l
		}
	}
	t.Fatalf("no layer %q in %q", n, net.Name())
	return nil
}

// wantComputes checks a layer's decision and the types its float inputs
// actually arrive in.
func wantComputes(t *testing.T, g *ir.Graph, n string, dt dsl.DataType, reason string) {
	t.Helper()
	l := layerNamed(t, g.Net, n)
	d := g.Precisions[n]
	if d.Type != dt || (reason != "" && d.Reason != reason) {
		t.Errorf("%s: decision %s %q, want %s %q", dsl.LayerString(l), DescribePrecision(d.Type), d.Reason, DescribePrecision(dt), reason)
	}
	for i := 0; i < l.NbInputs(); i++ {
		if in := l.Input(i); in != nil && isFloat(in.Type()) && in.Type() != dt {
			t.Errorf("%s: input %d %q is %v, want %v", dsl.LayerString(l), i, in.Name(), in.Type(), dt)
		}
	}
}

// agree runs both networks on the same random inputs and compares the
// outputs with the tolerance of dt scaled by k.
func agree(t *testing.T, before, after *dsl.Network, dt dsl.DataType, k int) {
	t.Helper()
	for seed := uint64(1); seed <= 2; seed++ {
		in := irtest.RandomInputs(before, seed, 2)
		want, err := cpu.Run(before, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cpu.Run(after, in)
		if err != nil {
			t.Fatalf("the %s network does not run: %v", DescribePrecision(dt), err)
		}
		tol := tolerance.For(dt).Scaled(k)
		for n, w := range want {
			if err := tol.Compare(got[n].Float64s(), w.Float64s()); err != nil {
				t.Fatalf("output %q in %s: %v", n, DescribePrecision(dt), err)
			}
		}
	}
}

func countKind(net *dsl.Network, kind dsl.LayerType) int {
	n := 0
	for _, l := range net.Layers() {
		if l.Type() == kind {
			n++
		}
	}
	return n
}

func TestMLP(t *testing.T) {
	for _, dt := range halves {
		t.Run(DescribePrecision(dt), func(t *testing.T) {
			net := mlpNet()
			g := autocast(t, net, ir.Options{Compute: dt})
			for _, n := range []string{"fc1.matmul", "fc1.add", "relu", "fc2.matmul", "fc2.add"} {
				wantComputes(t, g, n, dt, requested(dt))
			}
			// The weights are converted at build time: the only casts are
			// the input going in and the output coming out.
			for _, n := range []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"} {
				if c := layerNamed(t, g.Net, n).(*dsl.ConstantLayer); c.Weights().Type() != dt {
					t.Errorf("constant %q holds %v weights, want %v", n, c.Weights().Type(), dt)
				}
			}
			if n := countKind(g.Net, dsl.LayerCast); n != 2 {
				t.Errorf("%d casts, want 2 (input and output)", n)
			}
			layerNamed(t, g.Net, "x to "+DescribePrecision(dt))
			// The CPU engine accumulates in fp32 and rounds each layer's
			// output to half, so the error is the rounding of the inputs of
			// a dot product, growing with sqrt of its length: the longest
			// here is fc2's 128 (measured: a fifth of the unscaled bound).
			agree(t, net, g.Net, dt, 128)
		})
	}
}

func TestConvNet(t *testing.T) {
	for _, dt := range halves {
		t.Run(DescribePrecision(dt), func(t *testing.T) {
			net := convNet()
			g := autocast(t, net, ir.Options{Compute: dt})
			for _, n := range []string{"conv1", "bn1", "relu1", "maxpool", "conv2", "avgpool"} {
				wantComputes(t, g, n, dt, requested(dt))
			}
			c := layerNamed(t, g.Net, "conv1").(*dsl.ConvolutionLayer)
			if c.KernelWeights().Type() != dt || c.BiasWeights().Type() != dt {
				t.Errorf("conv1 weights are %v/%v, want %v", c.KernelWeights().Type(), c.BiasWeights().Type(), dt)
			}
			s := layerNamed(t, g.Net, "bn1").(*dsl.ScaleLayer)
			if s.Scale().Type() != dt || s.Shift().Type() != dt {
				t.Errorf("bn1 weights are %v/%v, want %v", s.Scale().Type(), s.Shift().Type(), dt)
			}
			if n := countKind(g.Net, dsl.LayerCast); n != 2 {
				t.Errorf("%d casts, want 2", n)
			}
			// The longest reduction is conv2's 8*3*3 = 72 products.
			agree(t, net, g.Net, dt, 72)
		})
	}
}

func TestTransformerKeepsSoftmaxAndNormInFP32(t *testing.T) {
	for _, dt := range halves {
		t.Run(DescribePrecision(dt), func(t *testing.T) {
			net := transformerNet()
			g := autocast(t, net, ir.Options{Compute: dt})
			wantComputes(t, g, "softmax", dsl.Float32, "softmax kept in fp32")
			wantComputes(t, g, "ln1", dsl.Float32, "normalization statistics kept in fp32")
			wantComputes(t, g, "ln2", dsl.Float32, "normalization statistics kept in fp32")
			for _, n := range []string{"scores", "scaled", "attend", "residual1", "gelu", "residual2"} {
				wantComputes(t, g, n, dt, requested(dt))
			}
			mm := 0
			for _, l := range g.Net.Layers() {
				if l.Type() == dsl.LayerMatrixMultiply {
					mm++
					wantComputes(t, g, l.Name(), dt, "")
				}
			}
			if mm != 8 {
				t.Errorf("%d matrix multiplies, want 8", mm)
			}
			// LayerNorm's gamma/beta constants are read by an fp32 layer
			// only, so they stay fp32 with no cast.
			for _, l := range g.Net.Layers() {
				if c, ok := l.(*dsl.ConstantLayer); ok {
					want := dt
					if readers(g.Net, c.Output(0)) == dsl.LayerNormalization {
						want = dsl.Float32
					}
					if c.Weights().Type() != want {
						t.Errorf("constant %q is %v, want %v", c.Name(), c.Weights().Type(), want)
					}
				}
			}
			// The longest reduction is fc2's 128 terms (measured: about half
			// the unscaled bound).
			agree(t, net, g.Net, dt, 128)
		})
	}
}

// readers returns the kind of the layers reading t (the first one's).
func readers(net *dsl.Network, t *dsl.Tensor) dsl.LayerType {
	for _, l := range net.Layers() {
		for i := 0; i < l.NbInputs(); i++ {
			if l.Input(i) == t {
				return l.Type()
			}
		}
	}
	return -1
}

func TestFusedAttention(t *testing.T) {
	for _, dt := range halves {
		t.Run(DescribePrecision(dt), func(t *testing.T) {
			net := attentionNet()
			g := autocast(t, net, ir.Options{Compute: dt})
			for _, l := range g.Net.Layers() {
				switch l.Type() {
				case dsl.LayerAttention, dsl.LayerMatrixMultiply:
					wantComputes(t, g, l.Name(), dt, requested(dt))
				case dsl.LayerShuffle:
					// The head split and merge sit between half layers.
					wantComputes(t, g, l.Name(), dt, "follows its input")
				case dsl.LayerNormalization:
					wantComputes(t, g, l.Name(), dsl.Float32, "normalization statistics kept in fp32")
				}
			}
			if n := countKind(g.Net, dsl.LayerCast); n != 2 {
				t.Errorf("%d casts, want 2 (x in, the attention output into the fp32 LayerNorm)", n)
			}
			// The longest reduction is a projection's 32 terms.
			agree(t, net, g.Net, dt, 32)
		})
	}
}

// A Shuffle between two half layers stays half; one between a half layer
// and an fp32 one runs in the type that arrives, and the cast comes after.
func TestDataMovementFollowsItsInput(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 3, 4})
	a := name(net.AddActivation(x, dsl.ActivationTanh), "tanh")
	sh := net.AddShuffle(a)
	sh.SetReshapeDimensions(dsl.Dims{6, 4})
	s := name(sh, "reshape")
	b := name(net.AddActivation(s, dsl.ActivationSigmoid), "sigmoid")
	sm := net.AddSoftMax(b)
	sm.SetAxes(2)
	y := name(sm, "softmax")
	sl := name(net.AddSlice(y, dsl.Dims{0, 0}, dsl.Dims{6, 2}, dsl.Dims{1, 1}), "slice")
	z := name(net.AddUnary(sl, dsl.UnaryAbs), "abs")
	z.SetName("z")
	net.MarkOutput(z)

	g := autocast(t, net, ir.Options{Compute: dsl.Float16})
	wantComputes(t, g, "reshape", dsl.Float16, "follows its input")
	wantComputes(t, g, "sigmoid", dsl.Float16, "fp16 requested")
	wantComputes(t, g, "softmax", dsl.Float32, "softmax kept in fp32")
	wantComputes(t, g, "slice", dsl.Float32, "follows its input")
	wantComputes(t, g, "abs", dsl.Float16, "fp16 requested")
	// x to fp16, sigmoid's output to fp32, slice's to fp16, z to fp32.
	if n := countKind(g.Net, dsl.LayerCast); n != 4 {
		t.Errorf("%d casts, want 4", n)
	}
	agree(t, net, g.Net, dsl.Float16, 1) // pointwise: one rounding per half layer
}

// Ops that overflow or accumulate in half stay fp32; max reductions go half.
func TestKeepFP32Ops(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{4, 16})
	e := name(net.AddUnary(x, dsl.UnaryExp), "exp")
	s := name(net.AddReduce(e, dsl.ReduceSum, 2, true), "sum")
	l := name(net.AddUnary(s, dsl.UnaryLog), "log")
	m := name(net.AddReduce(x, dsl.ReduceMax, 2, true), "max")
	p := name(net.AddElementWise(x, x, dsl.ElementWisePow), "pow")
	a := name(net.AddReduce(p, dsl.ReduceAvg, 2, true), "mean")
	sp := name(net.AddActivation(x, dsl.ActivationSoftplus), "softplus")
	r := name(net.AddElementWise(l, m, dsl.ElementWiseSub), "sub")
	r = name(net.AddElementWise(r, a, dsl.ElementWiseSum), "add")
	r = name(net.AddElementWise(sp, r, dsl.ElementWiseSum), "add2")
	r.SetName("y")
	net.MarkOutput(r)

	g := autocast(t, net, ir.Options{Compute: dsl.Float16})
	wantComputes(t, g, "exp", dsl.Float32, "exp kept in fp32")
	wantComputes(t, g, "sum", dsl.Float32, "sum reduction kept in fp32")
	wantComputes(t, g, "log", dsl.Float32, "log kept in fp32")
	wantComputes(t, g, "pow", dsl.Float32, "pow kept in fp32")
	wantComputes(t, g, "mean", dsl.Float32, "avg reduction kept in fp32")
	wantComputes(t, g, "softplus", dsl.Float32, "softplus kept in fp32")
	wantComputes(t, g, "max", dsl.Float16, "fp16 requested")
	wantComputes(t, g, "sub", dsl.Float16, "fp16 requested")
	agree(t, net, g.Net, dsl.Float16, 16) // 16-term reductions
}

func TestFP32RecordsDecisionsOnly(t *testing.T) {
	net := mlpNet()
	g := ir.New(net)
	ng, err := Autocast(g, ir.Options{Compute: dsl.Float32})
	if err != nil {
		t.Fatal(err)
	}
	if ng.Net != net {
		t.Fatal("fp32 autocast rebuilt the network")
	}
	if len(g.Precisions) != 0 {
		t.Fatal("fp32 autocast modified its input graph")
	}
	if d := ng.Precisions["fc1.matmul"]; d.Type != dsl.Float32 || d.Reason != "fp32 requested" {
		t.Errorf("fc1.matmul: %+v", d)
	}
	ng, err = Autocast(g, ir.Options{Compute: dsl.Float32, TF32: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := ng.Precisions["fc1.matmul"]; d.Reason != "fp32 with TF32 tensor cores" {
		t.Errorf("fc1.matmul with TF32: %+v", d)
	}
	if d := ng.Precisions["relu"]; d.Reason != "fp32 requested" {
		t.Errorf("relu with TF32: %+v", d)
	}
	if n := len(ng.Precisions); n != net.NbLayers() {
		t.Errorf("%d decisions for %d float layers", n, net.NbLayers())
	}
}

func TestOverrides(t *testing.T) {
	net := transformerNet()
	o := ir.Options{Compute: dsl.Float16, LayerPrecisions: map[string]dsl.DataType{
		"softmax": dsl.Float16, // force the softmax down
		"gelu":    dsl.Float32, // and an activation up
	}}
	g := autocast(t, net, o)
	wantComputes(t, g, "softmax", dsl.Float16, "override from config")
	wantComputes(t, g, "gelu", dsl.Float32, "override from config")
	wantComputes(t, g, "scores", dsl.Float16, "fp16 requested")
	agree(t, net, g.Net, dsl.Float16, 128) // fc2's 128 terms, as above

	// Overrides alone, on an fp32 build: only the layer named goes half.
	g = autocast(t, net, ir.Options{Compute: dsl.Float32, LayerPrecisions: map[string]dsl.DataType{"scores": dsl.BFloat16}})
	wantComputes(t, g, "scores", dsl.BFloat16, "override from config")
	wantComputes(t, g, "attend", dsl.Float32, "fp32 requested")
	agree(t, net, g.Net, dsl.BFloat16, 32) // the 32-term dot products of scores
}

func TestOverrideErrors(t *testing.T) {
	net := transformerNet()
	for _, c := range []struct {
		name string
		ov   map[string]dsl.DataType
		want string
	}{
		{"no such layer", map[string]dsl.DataType{"nope": dsl.Float16}, `"nope"`},
		{"integer type", map[string]dsl.DataType{"softmax": dsl.Int8}, "softmax"},
		{"fp8", map[string]dsl.DataType{"gelu": dsl.FP8E4M3}, "gelu"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Autocast(ir.New(net), ir.Options{Compute: dsl.Float16, LayerPrecisions: c.ov})
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, diag.InvalidArgument) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v: want InvalidArgument naming %s", err, c.want)
			}
		})
	}
	// A Cast carries its own type.
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2})
	y := name(n.AddCast(x, dsl.Int32), "to_int")
	n.MarkOutput(y)
	if _, err := Autocast(ir.New(n), ir.Options{Compute: dsl.Float16, LayerPrecisions: map[string]dsl.DataType{"to_int": dsl.Float16}}); !errors.Is(err, diag.InvalidArgument) {
		t.Errorf("override of a Cast: %v", err)
	}
	if _, err := Autocast(ir.New(n), ir.Options{Compute: dsl.Int8}); !errors.Is(err, diag.InvalidArgument) {
		t.Errorf("compute int8: %v", err)
	}
}

func TestDescribePrecision(t *testing.T) {
	for dt, want := range map[dsl.DataType]string{dsl.Float32: "fp32", dsl.Float16: "fp16", dsl.BFloat16: "bf16", dsl.Int8: "int8", dsl.Bool: "bool"} {
		if got := DescribePrecision(dt); got != want {
			t.Errorf("DescribePrecision(%v) = %q, want %q", dt, got, want)
		}
	}
}

// Layers inside a loop keep their types (a recurrence's next value must
// match its initial value); values from outside arrive through a cast.
func TestLoopKeepsFP32(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{4})
	h := name(net.AddActivation(x, dsl.ActivationTanh), "tanh")
	trips := name(net.AddConstant(dsl.Dims{}, dsl.Int64Weights(3)), "trips")
	loop := net.AddLoop()
	name(loop.AddTripLimit(trips, dsl.TripLimitCount), "limit")
	r := loop.AddRecurrence(h)
	r.SetName("acc")
	s := name(net.AddElementWise(r.Output(0), h, dsl.ElementWiseSum), "step")
	r.SetInput(1, s)
	out := name(loop.AddLoopOutput(r.Output(0), dsl.LoopOutputLastValue, 0), "last")
	y := name(net.AddActivation(out, dsl.ActivationSigmoid), "sigmoid")
	y.SetName("y")
	net.MarkOutput(y)
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}

	g := autocast(t, net, ir.Options{Compute: dsl.Float16})
	wantComputes(t, g, "tanh", dsl.Float16, "fp16 requested")
	wantComputes(t, g, "acc", dsl.Float32, "inside a loop")
	wantComputes(t, g, "step", dsl.Float32, "inside a loop")
	wantComputes(t, g, "last", dsl.Float32, "inside a loop")
	wantComputes(t, g, "sigmoid", dsl.Float16, "fp16 requested")
	// x to fp16, tanh to fp32 (shared by the recurrence and the step),
	// last to fp16, y to fp32.
	if n := countKind(g.Net, dsl.LayerCast); n != 4 {
		t.Errorf("%d casts, want 4", n)
	}
	if _, err := Autocast(ir.New(net), ir.Options{Compute: dsl.Float16, LayerPrecisions: map[string]dsl.DataType{"step": dsl.Float16}}); !errors.Is(err, diag.InvalidArgument) {
		t.Errorf("override inside a loop: %v", err)
	}
	agree(t, net, g.Net, dsl.Float16, 3) // three additions
}

// Fusions carry over while their members stay connected; one that a cast
// now splits is dropped (a later fusion pass may form it again).
func TestFusionsCarryOver(t *testing.T) {
	net := transformerNet()
	g := ir.New(net)
	byName := map[string]dsl.Layer{}
	for _, l := range net.Layers() {
		byName[l.Name()] = l
	}
	g.Fusions = []ir.Fusion{
		{Kind: ir.FusedMatMulBiasActivation, Layers: []dsl.Layer{byName["scores"], byName["scaled"]}},
		{Kind: ir.FusedSoftMax, Layers: []dsl.Layer{byName["softmax"], byName["attend"]}},
	}
	if err := ir.Check(g); err != nil {
		t.Fatal(err)
	}
	ng, err := Autocast(g, ir.Options{Compute: dsl.Float16})
	if err != nil {
		t.Fatal(err)
	}
	if err := ir.Check(ng); err != nil {
		t.Fatal(err)
	}
	if len(ng.Fusions) != 1 || ng.Fusions[0].Kind != ir.FusedMatMulBiasActivation {
		t.Errorf("fusions after autocast: %v, want only the matmul one", ng.Fusions)
	}
	if len(g.Fusions) != 2 {
		t.Error("Autocast modified the input graph's fusions")
	}
}

// Comparisons run in the type their inputs arrive in: 1+2^-12 == 1 is
// false in fp32 and would be true in fp16.
func TestComparisonsFollowTheirInputs(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{4})
	one := name(net.AddConstant(dsl.Dims{4}, dsl.Float32Weights(1, 1, 1, 1)), "one")
	eq := name(net.AddElementWise(x, one, dsl.ElementWiseEqual), "eq")
	eq.SetName("eq")
	net.MarkOutput(eq)
	y := name(net.AddActivation(x, dsl.ActivationTanh), "tanh")
	inf := name(net.AddUnary(y, dsl.UnaryIsInf), "isinf")
	inf.SetName("inf")
	net.MarkOutput(inf)
	g := autocast(t, net, ir.Options{Compute: dsl.Float16})
	if l := layerNamed(t, g.Net, "eq"); l.Input(0).Type() != dsl.Float32 || l.Input(1).Type() != dsl.Float32 {
		t.Errorf("eq reads %v and %v, want fp32", l.Input(0).Type(), l.Input(1).Type())
	}
	if l := layerNamed(t, g.Net, "isinf"); l.Input(0).Type() != dsl.Float16 {
		t.Errorf("isinf reads %v, want the fp16 tanh output as it arrives", l.Input(0).Type())
	}
	xv, _ := tensor.FromFloat32([]int64{4}, []float32{1, 1 + 1.0/4096, 0.5, 2})
	want, err := cpu.Run(net, map[string]*tensor.Tensor{"x": xv})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cpu.Run(g.Net, map[string]*tensor.Tensor{"x": xv})
	if err != nil {
		t.Fatal(err)
	}
	if err := irtest.Compare(want, got, 0); err != nil {
		t.Error(err)
	}
}

// A constant takes the type its readers will read it in: one concatenated
// with a half tensor is converted, one concatenated with an fp32 network
// input stays fp32 (the concatenation then runs in fp32 and is cast once).
func TestConstantsFollowTheirReaders(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 4})
	t1 := name(net.AddActivation(x, dsl.ActivationTanh), "tanh")
	c1 := name(net.AddConstant(dsl.Dims{1, 4}, dsl.Float32Weights(0.1, 0.2, 0.3, 0.4)), "c1")
	c2 := name(net.AddConstant(dsl.Dims{1, 4}, dsl.Float32Weights(-0.5, 0.25, 1, 2)), "c2")
	cl := net.AddConcatenation([]*dsl.Tensor{c1, t1})
	cl.SetAxis(0)
	a := name(cl, "concat_half")
	cl = net.AddConcatenation([]*dsl.Tensor{c2, x})
	cl.SetAxis(0)
	b := name(cl, "concat_fp32")
	y := name(net.AddElementWise(a, b, dsl.ElementWiseSum), "sum")
	y.SetName("y")
	net.MarkOutput(y)

	g := autocast(t, net, ir.Options{Compute: dsl.Float16})
	wantComputes(t, g, "concat_half", dsl.Float16, "follows its input")
	wantComputes(t, g, "concat_fp32", dsl.Float32, "follows its input")
	wantComputes(t, g, "sum", dsl.Float16, "fp16 requested")
	wantComputes(t, g, "c1", dsl.Float16, "converted to fp16 at build time for its consumers")
	wantComputes(t, g, "c2", dsl.Float32, "follows its consumers")
	// x to fp16 (for tanh), concat_fp32 to fp16 (for sum), y to fp32.
	if n := countKind(g.Net, dsl.LayerCast); n != 3 {
		t.Errorf("%d casts, want 3", n)
	}
	agree(t, net, g.Net, dsl.Float16, 1)
}

// TestSharedConstantIsConvertedNotCast: a constant read by a half matrix
// multiply's bias add and by a layer norm kept in fp32 (BERT's zero
// biases and beta, merged by CSE) gets a half copy converted at build
// time; no Cast reads a constant.
func TestSharedConstantIsConvertedNotCast(t *testing.T) {
	for _, dt := range halves {
		net := dsl.NewNetwork()
		x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 3, 8})
		w := net.AddConstant(dsl.Dims{1, 8, 8}, dsl.NewWeights(irtest.RandomTensor(rand.New(rand.NewPCG(1, 1)), dsl.Float32, []int64{1, 8, 8}))).Output(0)
		shared := net.AddConstant(dsl.Dims{1, 1, 8}, dsl.NewWeights(irtest.RandomTensor(rand.New(rand.NewPCG(2, 2)), dsl.Float32, []int64{1, 1, 8}))).Output(0)
		gamma := net.AddConstant(dsl.Dims{1, 1, 8}, dsl.NewWeights(irtest.RandomTensor(rand.New(rand.NewPCG(3, 3)), dsl.Float32, []int64{1, 1, 8}))).Output(0)
		h := net.AddMatrixMultiply(x, dsl.MatrixOpNone, w, dsl.MatrixOpNone).Output(0)
		h = net.AddElementWise(h, shared, dsl.ElementWiseSum).Output(0)
		y := net.AddNormalization(h, gamma, shared, 1<<2).Output(0)
		y.SetName("y")
		net.MarkOutput(y)
		g := autocast(t, net, ir.Options{Compute: dt})
		for _, l := range g.Net.Layers() {
			if _, isCast := l.(*dsl.CastLayer); isCast {
				if p, _ := l.Input(0).Producer(); p != nil && p.Type() == dsl.LayerConstant {
					t.Errorf("%s: %s casts a constant at run time", DescribePrecision(dt), dsl.LayerString(l))
				}
			}
		}
		if n := countKind(g.Net, dsl.LayerConstant); n != 4 {
			t.Errorf("%s: %d constants, want 4 (the shared one in fp32 and %s)", DescribePrecision(dt), n, DescribePrecision(dt))
		}
		agree(t, net, g.Net, dt, 8)
	}
}
