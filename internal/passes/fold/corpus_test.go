package fold

import (
	"fmt"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

// TestConformanceModels folds every ONNX backend test model that passes
// on the CPU engine, and the same model with every Constant hidden behind
// an Identity (the importer folds constant nodes as it imports, so the
// models as imported have little left to fold). Every result must verify
// and compute the original outputs bit for bit.
func TestConformanceModels(t *testing.T) {
	models := irtest.ConformanceModels(t)
	if len(models) < 900 {
		t.Fatalf("only %d conformance models pass on the CPU engine; expected about 998", len(models))
	}
	changed, unfoldedChanged, unfoldedModels := 0, 0, 0
	for _, m := range models {
		want, err := cpu.Run(m.Net, m.Inputs)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if foldAndCompare(t, m.Name, m.Net, m.Inputs, want) {
			changed++
		}

		u, n := unfold(m.Net)
		if n == 0 {
			continue
		}
		if u.Err() != nil {
			continue // hiding a constant lost a build-time value some layer needs
		}
		uwant, err := cpu.Run(u, m.Inputs)
		if err != nil || irtest.Compare(want, uwant, 0) != nil {
			continue
		}
		unfoldedModels++
		if !foldAndCompare(t, m.Name+" (unfolded)", u, m.Inputs, want) {
			t.Errorf("%s (unfolded): %d Identity layers on constants, and nothing folded", m.Name, n)
			continue
		}
		unfoldedChanged++
	}
	t.Logf("constant folding changed %d of %d conformance models as imported, and %d of %d with their constants behind Identity layers",
		changed, len(models), unfoldedChanged, unfoldedModels)
	if unfoldedChanged == 0 {
		t.Errorf("folding changed none of the unfolded models")
	}
}

// foldAndCompare folds net and checks the result against want (computed
// from in). It reports whether the pass changed the network.
func foldAndCompare(t *testing.T, name string, net *dsl.Network, in, want map[string]*tensor.Tensor) bool {
	t.Helper()
	g := ir.New(net)
	ng, err := Constants(g, ir.Options{})
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return false
	}
	if ng == g {
		return false
	}
	if err := ir.Check(ng); err != nil {
		t.Errorf("%s: %v", name, err)
		return true
	}
	if ng.Net.NbLayers() > net.NbLayers() {
		// Only a Bool or UInt8 result adds a layer (its Cast), and that
		// replaces at least the layer it folds.
		t.Logf("%s: folding grew the network from %d to %d layers", name, net.NbLayers(), ng.Net.NbLayers())
	}
	got, err := cpu.Run(ng.Net, in)
	if err != nil {
		t.Errorf("%s: the folded network fails: %v", name, err)
		return true
	}
	if hasRandomFill(net) {
		// The CPU engine seeds a random fill with its layer index, which
		// moves when layers before it fold away: compare shapes only.
		for k, w := range want {
			if g, ok := got[k]; !ok || fmt.Sprint(g.Shape()) != fmt.Sprint(w.Shape()) || g.DType() != w.DType() {
				t.Errorf("%s: output %q differs in type or shape", name, k)
			}
		}
		return true
	}
	if err := irtest.Compare(want, got, 0); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	return true
}

func hasRandomFill(net *dsl.Network) bool {
	for _, l := range net.Layers() {
		if f, ok := l.(*dsl.FillLayer); ok && f.Operation() != dsl.FillLinspace {
			return true
		}
	}
	return false
}

// unfold copies net with an Identity layer after every Constant outside
// loops and conditionals, so every layer that read a constant reads a
// computed value that folding must turn back into a constant. It returns
// the copy and the number of Identity layers added.
func unfold(net *dsl.Network) (*dsl.Network, int) {
	inRegion := map[dsl.Layer]bool{}
	for _, r := range net.Regions() {
		for _, set := range [][]dsl.Layer{r.Boundary, r.Body, r.Dead} {
			for _, l := range set {
				inRegion[l] = true
			}
		}
	}
	r := ir.NewRebuilder(net)
	added := 0
	for _, l := range net.TopoLayers() {
		c := r.Copy(l)
		if l.Type() != dsl.LayerConstant || inRegion[l] || c == nil {
			continue
		}
		id := r.Dst.AddIdentity(c.Output(0))
		id.SetName(l.Name() + "_hidden")
		r.Alias(l.Output(0), id.Output(0))
		added++
	}
	u, err := r.Finish()
	if err != nil {
		return r.Dst, added
	}
	return u, added
}
