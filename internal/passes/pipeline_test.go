package passes

import (
	"errors"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
)

func tinyGraph() *ir.Graph {
	net := dsl.NewNetwork()
	net.SetName("tiny")
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2})
	a := net.AddActivation(x, dsl.ActivationReLU)
	a.SetName("relu")
	net.MarkOutput(a.Output(0))
	return ir.New(net)
}

func same(g *ir.Graph, _ ir.Options) (*ir.Graph, error) { return g, nil }

func TestPipelineOrderIsValid(t *testing.T) {
	if err := checkOrder(pipeline); err != nil {
		t.Fatal(err)
	}
	if len(Names()) != len(pipeline) {
		t.Fatal("Names disagrees with the pipeline")
	}
}

func TestCheckOrderRejects(t *testing.T) {
	for _, tc := range []struct {
		ps   []Pass
		want string
	}{
		{[]Pass{{Name: "a", Run: same}, {Name: "a", Run: same}}, `"a" is listed twice`},
		{[]Pass{{Name: "a", Run: same, After: []string{"b"}}, {Name: "b", Run: same}}, `"a" must run after "b", but is listed before it`},
		{[]Pass{{Name: "a", Run: same, After: []string{"zz"}}}, `"zz", which is not a pass`},
		{[]Pass{{Name: "", Run: same}}, "no name"},
		{[]Pass{{Name: "a"}}, "no Run"},
	} {
		if err := checkOrder(tc.ps); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

func TestRunRecoversPanicsAndVerifies(t *testing.T) {
	boom := []Pass{{Name: "boom", Required: true, Run: func(*ir.Graph, ir.Options) (*ir.Graph, error) { panic("index out of range") }}}
	_, _, err := run(boom, tinyGraph(), Config{})
	if !errors.Is(err, diag.Internal) || !strings.Contains(err.Error(), `internal error during pass boom on network "tiny": index out of range`) {
		t.Errorf("panic: %v", err)
	}

	// A pass that returns a graph with a fusion naming a foreign layer is
	// caught by the verifier.
	bad := []Pass{{Name: "bad", Required: true, Run: func(g *ir.Graph, _ ir.Options) (*ir.Graph, error) {
		other := tinyGraph()
		ng := *g
		ng.Fusions = []ir.Fusion{{Kind: ir.FusedPointwise, Layers: []dsl.Layer{other.Net.Layer(0)}}}
		return &ng, nil
	}}}
	if _, _, err := run(bad, tinyGraph(), Config{Verify: true}); !errors.Is(err, diag.Internal) || !strings.Contains(err.Error(), "after pass bad") {
		t.Errorf("verifier: %v", err)
	}
	if _, _, err := run(bad, tinyGraph(), Config{}); err != nil {
		t.Errorf("without Verify the bad graph goes through: %v", err)
	}

	nilPass := []Pass{{Name: "nil", Required: true, Run: func(*ir.Graph, ir.Options) (*ir.Graph, error) { return nil, nil }}}
	if _, _, err := run(nilPass, tinyGraph(), Config{}); !errors.Is(err, diag.Internal) {
		t.Errorf("nil graph: %v", err)
	}
	failing := []Pass{{Name: "failing", Required: true, Run: func(*ir.Graph, ir.Options) (*ir.Graph, error) {
		return nil, diag.Errorf(diag.InvalidArgument, "layer %q: nope", "relu")
	}}}
	if _, _, err := run(failing, tinyGraph(), Config{}); !errors.Is(err, diag.InvalidArgument) || !strings.Contains(err.Error(), "pass failing") {
		t.Errorf("failing pass: %v", err)
	}
}

func TestOptLevelSkipsPasses(t *testing.T) {
	ran := 0
	count := func(g *ir.Graph, _ ir.Options) (*ir.Graph, error) { ran++; return g, nil }
	ps := []Pass{{Name: "always", Required: true, Run: count}, {Name: "level2", MinLevel: 2, Run: count}}
	var progress []string
	_, reports, err := run(ps, tinyGraph(), Config{Options: ir.Options{OptLevel: 1}, Progress: func(r Report) { progress = append(progress, r.Pass) }})
	if err != nil {
		t.Fatal(err)
	}
	if ran != 1 || !reports[1].Skipped || reports[0].Skipped {
		t.Errorf("ran %d passes, reports %+v", ran, reports)
	}
	if len(progress) != 1 || progress[0] != "always" {
		t.Errorf("progress %v", progress)
	}
}
