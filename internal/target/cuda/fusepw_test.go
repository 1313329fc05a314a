package cuda

import (
	"slices"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// TestPointwiseGroups checks which layers one fused kernel computes: a
// bias add and its activation and cast fuse; a tensor read outside the
// group, a network output and a smaller intermediate (broadcast by its
// consumer) end groups.
func TestPointwiseGroups(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float16, dsl.Dims{4, 8})
	b := net.AddConstant(dsl.Dims{1, 8}, dsl.NewWeights(tensor.New(dsl.Float16, 1, 8))).Output(0)
	add := net.AddElementWise(x, b, dsl.ElementWiseSum)
	sq := net.AddElementWise(add.Output(0), add.Output(0), dsl.ElementWiseProd)
	act := net.AddActivation(sq.Output(0), dsl.ActivationGeluErf)
	cast := net.AddCast(act.Output(0), dsl.Float32)
	red := net.AddReduce(act.Output(0), dsl.ReduceSum, 1<<1, true) // reads act outside the group
	small := net.AddUnary(net.AddConstant(dsl.Dims{1, 8}, dsl.Float32Weights(make([]float32, 8)...)).Output(0), dsl.UnaryExp)
	mul := net.AddElementWise(cast.Output(0), small.Output(0), dsl.ElementWiseProd)
	mul.Output(0).SetName("y")
	net.MarkOutput(mul.Output(0))
	red.Output(0).SetName("r")
	net.MarkOutput(red.Output(0))
	p, _, layers := lowered(t, net)
	stepOf := func(l dsl.Layer) step { return p.Steps[slices.Index(layers, l)] }
	idx := func(ls ...dsl.Layer) []int {
		var out []int
		for _, l := range ls {
			out = append(out, slices.Index(layers, l))
		}
		return out
	}
	if s := stepOf(act); s.Kind != kindKernel || !slices.Equal(s.Members, idx(add, sq, act)) {
		t.Errorf("the activation's step is %+v, want a kernel of add, square and activation", s)
	}
	for _, l := range []dsl.Layer{add, sq} {
		if s := stepOf(l); s.Kind != kindFused || s.Into != idx(act)[0] {
			t.Errorf("%s: step %+v, want fused into the activation's", l.Name(), s)
		}
	}
	if s := stepOf(mul); s.Kind != kindKernel || !slices.Equal(s.Members, idx(cast, mul)) {
		t.Errorf("the output's step is %+v, want a kernel of the cast and the product", s)
	}
	if s := stepOf(small); s.Kind != kindKernel || len(s.Members) != 0 {
		t.Errorf("the broadcast exp's step is %+v, want a kernel of its own", s)
	}
	if _, err := decodePlan(must(p.encode()), len(layers)); err != nil {
		t.Fatalf("the plan does not decode: %v", err)
	}
	bad := *p
	bad.Steps = slices.Clone(p.Steps)
	bad.Steps[idx(add)[0]].Into = idx(mul)[0]
	if _, err := decodePlan(must(bad.encode()), len(layers)); err == nil {
		t.Error("a plan fusing a layer into a step that does not compute it decodes")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestLaunchCounts(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 8})
	a := net.AddActivation(net.AddUnary(x, dsl.UnaryExp).Output(0), dsl.ActivationReLU).Output(0) // one fused kernel
	c := net.AddConcatenation([]*dsl.Tensor{a, x})                                                // two copies
	c.SetAxis(1)
	s := net.AddShuffle(c.Output(0)) // a reshape: no work
	s.SetReshapeDimensions(dsl.Dims{4, 8})
	s.Output(0).SetName("y")
	net.MarkOutput(s.Output(0))
	p, _, layers := lowered(t, net)
	if f, u := p.launches(layers); f != 3 || u != 4 {
		t.Errorf("launches %d, %d without fusion; want 3 and 4", f, u)
	}
}
