package dsl

import (
	"errors"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
)

func TestAddPluginResolves(t *testing.T) {
	var got []string
	prev := SetPluginResolver(func(name, version, ns string, attrs map[string]any) (Plugin, error) {
		got = append(got, name, version, ns)
		if _, ok := attrs["plugin_version"]; ok {
			t.Error("plugin_version reached the resolver's attributes")
		}
		if attrs["two_outputs"] == true {
			return &ctlPairMax{twoOut: true}, nil
		}
		return nil, diag.Errorf(diag.UnsupportedAttr, "plugin %q: attribute two_outputs (bool) is required", name)
	})
	defer func() { SetPluginResolver(prev) }()

	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{-1, 4})
	b := n.AddInput("b", Float32, Dims{3, 4})
	l := n.AddPlugin("PairMax", []*Tensor{a, b}, map[string]any{"two_outputs": true, "plugin_version": "1", "plugin_namespace": "test"})
	n.MarkOutput(l.Output(0))
	n.MarkOutput(l.Output(1))
	ctlWantClean(t, n)
	if strings.Join(got, ",") != "PairMax,1,test" || l.NbOutputs() != 2 || !l.Output(1).Dims().Equal(Dims{3, 4}) {
		t.Fatalf("resolver saw %v; outputs %v %v", got, l.Output(0), l.Output(1))
	}

	// The resolver's error, at the caller's line, with its code; the bad
	// output keeps the Identity downstream quiet.
	n = NewNetwork()
	a = n.AddInput("a", Float32, Dims{-1, 4})
	l = n.AddPlugin("PairMax", []*Tensor{a, a}, nil)
	n.MarkOutput(n.AddIdentity(l.Output(0)).Output(0))
	err := n.Err()
	if !errors.Is(err, diag.UnsupportedAttr) || !strings.Contains(err.Error(), l.Location()+": ") ||
		!strings.Contains(err.Error(), `AddPlugin("PairMax"): plugin "PairMax": attribute two_outputs (bool) is required`) ||
		strings.Count(err.Error(), "\n\t") != 1 || !strings.HasPrefix(l.Location(), "dsl/plugin_add_test.go:") {
		t.Fatalf("got %v (layer at %s)", err, l.Location())
	}

	// plugin_version must be a string.
	n = NewNetwork()
	a = n.AddInput("a", Float32, Dims{4})
	n.MarkOutput(n.AddPlugin("PairMax", []*Tensor{a, a}, map[string]any{"plugin_version": 1}).Output(0))
	if err := n.Err(); !errors.Is(err, diag.UnsupportedAttr) || !strings.Contains(err.Error(), `"plugin_version" selects the plugin and must be a string, got int`) {
		t.Fatalf("got %v", err)
	}
}

func TestAddPluginWithoutRegistry(t *testing.T) {
	prev := SetPluginResolver(nil)
	defer func() { SetPluginResolver(prev) }()
	n := NewNetwork()
	a := n.AddInput("a", Float32, Dims{4})
	n.MarkOutput(n.AddPlugin("PairMax", []*Tensor{a}, nil).Output(0))
	if err := n.Err(); !errors.Is(err, diag.UnsupportedNode) || !strings.Contains(err.Error(), "import github.com/trtc/trtc/plugins") {
		t.Fatalf("got %v", err)
	}
}
