package simplify

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
)

type passFunc func(*ir.Graph, ir.Options) (*ir.Graph, error)

// runPass runs pass on net the way the pipeline does in tests: ir.Check
// before and after, the source left untouched, and the answers of the CPU
// engine unchanged bit for bit on random inputs.
func runPass(t *testing.T, pass passFunc, net *dsl.Network) *ir.Graph {
	t.Helper()
	if err := net.Err(); err != nil {
		t.Fatalf("the test network is invalid: %v", err)
	}
	g := ir.New(net)
	if err := ir.Check(g); err != nil {
		t.Fatal(err)
	}
	before := fingerprint(net)
	ng, err := pass(g, ir.Options{OptLevel: 3})
	if err != nil {
		t.Fatalf("pass: %v", err)
	}
	if err := ir.Check(ng); err != nil {
		t.Fatalf("after the pass: %v", err)
	}
	if after := fingerprint(net); after != before {
		t.Fatalf("the pass modified its input network:\nbefore %s\nafter  %s", before, after)
	}
	for i, o := range net.Outputs() {
		n := ng.Net.Output(i)
		if n.Name() != o.Name() || n.Type() != o.Type() || !n.Dims().Equal(o.Dims()) {
			t.Fatalf("output %d is %v, was %v", i, n, o)
		}
	}
	irtest.Differential(t, net, ng.Net, 0)
	return ng
}

// fingerprint summarises a network: every layer with its inputs and
// outputs, so a test sees a pass that edited its input.
func fingerprint(net *dsl.Network) string {
	var b strings.Builder
	for _, l := range net.Layers() {
		fmt.Fprintf(&b, "%s(", dsl.LayerString(l))
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil {
				fmt.Fprintf(&b, "%d,", t.ID())
			}
		}
		b.WriteString(")->")
		for i := 0; i < l.NbOutputs(); i++ {
			fmt.Fprintf(&b, "%v,", l.Output(i))
		}
		b.WriteString("; ")
	}
	return b.String()
}

// kinds lists a network's layer kinds with counts: "Activation:1 Cast:2".
func kinds(net *dsl.Network) string {
	n := map[string]int{}
	for _, l := range net.Layers() {
		n[l.Type().String()]++
	}
	var s []string
	for k, c := range n {
		s = append(s, fmt.Sprintf("%s:%d", k, c))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func wantKinds(t *testing.T, g *ir.Graph, want string) {
	t.Helper()
	if got := kinds(g.Net); got != want {
		t.Errorf("after the pass: %s, want %s", got, want)
	}
}

func constF32(n *dsl.Network, dims dsl.Dims, vals ...float32) *dsl.Tensor {
	return n.AddConstant(dims, dsl.Float32Weights(vals...)).Output(0)
}

func constI64(n *dsl.Network, vals ...int64) *dsl.Tensor {
	return n.AddConstant(dsl.Dims{int64(len(vals))}, dsl.Int64Weights(vals...)).Output(0)
}
