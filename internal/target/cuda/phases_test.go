package cuda

import (
	"slices"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

// phaseNet reshapes x to the shape given as input s, takes the NonZero of
// the result and adds one to it: the reshape's dims need s's values, the
// addition's the NonZero's count.
func phaseNet(t *testing.T) (*dsl.Network, *dsl.ShuffleLayer, *dsl.NonZeroLayer) {
	t.Helper()
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{6})
	s := net.AddInput("s", dsl.Int64, dsl.Dims{2})
	sh := net.AddShuffle(x)
	sh.SetInput(1, s)
	nz := net.AddNonZero(sh.Output(0))
	one := net.AddConstant(dsl.Dims{1, 1}, dsl.Int64Weights(1)).Output(0)
	y := net.AddElementWise(nz.Output(0), one, dsl.ElementWiseSum).Output(0)
	y.SetName("y")
	net.MarkOutput(y)
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	return net, sh, nz
}

func TestResolveKnownUsesWhatARunReadBack(t *testing.T) {
	net, sh, nz := phaseNet(t)
	shapes := map[string][]int64{"x": {6}, "s": {2}}
	dims, _, dynamic, err := resolveKnown(net, shapes, nil)
	if err != nil {
		t.Fatal(err)
	}
	if dynamic != sh.Output(0) {
		t.Fatalf("the first unresolved tensor is %v, want the reshape's output", dynamic)
	}
	if _, ok := dims[sh.Output(0)]; ok {
		t.Fatal("the reshape's dims resolved without the shape's values")
	}
	known := map[*dsl.Tensor]knownTensor{net.Inputs()[1]: {dims: []int64{2}, ints: []int64{2, 3}}}
	dims, _, dynamic, err = resolveKnown(net, shapes, known)
	if err != nil {
		t.Fatal(err)
	}
	if got := dims[sh.Output(0)]; !slices.Equal(got, []int64{2, 3}) {
		t.Fatalf("with s = [2 3] the reshape is %v", got)
	}
	if dynamic != nz.Output(0) {
		t.Fatalf("with s known the first unresolved tensor is %v, want the NonZero's output", dynamic)
	}
	known[nz.Output(0)] = knownTensor{dims: []int64{2, 4}}
	dims, _, dynamic, err = resolveKnown(net, shapes, known)
	if err != nil {
		t.Fatal(err)
	}
	if dynamic != nil || !slices.Equal(dims[net.Outputs()[0]], []int64{2, 4}) {
		t.Fatalf("with the NonZero's dims known: unresolved %v, output dims %v", dynamic, dims[net.Outputs()[0]])
	}
}

func TestPhaseBoundaries(t *testing.T) {
	net, sh, nz := phaseNet(t)
	p, _, err := lowerNetwork(net, ir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layers := net.TopoLayers()
	x := &executable{net: net, layers: layers, plan: p, reads: stepReads(layers, p, regionsOfPlan(layers, p)), writes: stepWrites(layers, p, regionsOfPlan(layers, p))}
	index := func(l dsl.Layer) int { return slices.Index(layers, l) }
	shapes := map[string][]int64{"x": {6}, "s": {2}}
	dims, _, _, _ := resolveKnown(net, shapes, nil)
	sp := &shapePlan{dims: dims, shapes: shapes}
	if sp.stop = x.phaseStop(sp); sp.stop != index(sh) {
		t.Fatalf("the first phase stops at step %d, want the reshape's %d", sp.stop, index(sh))
	}
	if err := x.planBoundary(sp); err != nil {
		t.Fatal(err)
	}
	if sp.hostStep || len(sp.fetch) != 1 || sp.fetch[0] != net.Inputs()[1] {
		t.Fatalf("the reshape's boundary reads %v (host %v), want the shape input", sp.fetch, sp.hostStep)
	}
	known := map[*dsl.Tensor]knownTensor{net.Inputs()[1]: {dims: []int64{2}, ints: []int64{2, 3}}}
	dims, _, _, _ = resolveKnown(net, shapes, known)
	sp2 := &shapePlan{dims: dims, shapes: shapes, known: known, start: sp.stop}
	if sp2.stop = x.phaseStop(sp2); sp2.stop != index(nz) {
		t.Fatalf("the second phase stops at step %d, want the NonZero's %d", sp2.stop, index(nz))
	}
	if k := p.Steps[sp2.stop].Kind; k != kindCounted {
		t.Fatalf("the NonZero is a %q step, want counted", k)
	}
	if err := x.planBoundary(sp2); err != nil {
		t.Fatal(err)
	}
	if sp2.hostStep || len(sp2.fetch) > 0 {
		t.Fatalf("the NonZero's boundary reads %v back (host %v); its count is all it needs", sp2.fetch, sp2.hostStep)
	}
}
