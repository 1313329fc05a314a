package simplify

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target/cpu"
)

// TestCorpus runs each pass over every ONNX backend test model that passes
// on the CPU engine: the result must verify and compute the same outputs
// bit for bit, on the model's own inputs. It logs how many models each
// pass changed, and fails when a pass changes none: each pattern occurs in
// the corpus.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus takes a while; run without -short")
	}
	models := irtest.ConformanceModels(t)
	passes := []struct {
		name string
		run  passFunc
	}{
		{"DeadLayers", DeadLayers},
		{"CSE", CSE},
		{"Identities", Identities},
	}
	for _, p := range passes {
		changed, removed, again := 0, 0, 0
		byKind, modelsByKind := map[dsl.LayerType]int{}, map[dsl.LayerType]int{}
		for _, m := range models {
			g := ir.New(m.Net)
			ng, err := p.run(g, ir.Options{OptLevel: 3})
			if err != nil {
				t.Errorf("%s on %s: %v", p.name, m.Name, err)
				continue
			}
			if ng == g {
				continue
			}
			changed++
			removed += m.Net.NbLayers() - ng.Net.NbLayers()
			for k, n := range countKinds(m.Net) {
				if d := n - countKinds(ng.Net)[k]; d > 0 {
					byKind[k] += d
					modelsByKind[k]++
				}
			}
			if err := ir.Check(ng); err != nil {
				t.Errorf("%s on %s: %v", p.name, m.Name, err)
				continue
			}
			want, err := cpu.Run(m.Net, m.Inputs)
			if err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
			got, err := cpu.Run(ng.Net, m.Inputs)
			if err != nil {
				t.Errorf("%s on %s: the result fails to run: %v", p.name, m.Name, err)
				continue
			}
			if err := irtest.Compare(want, got, 0); err != nil {
				t.Errorf("%s on %s: %v", p.name, m.Name, err)
			}
			// Each pass reaches its fixpoint in one run.
			if ng2, err := p.run(ng, ir.Options{OptLevel: 3}); err != nil || ng2 != ng {
				again++
				t.Errorf("%s on %s: a second run changed it again (%d -> %d layers), %v", p.name, m.Name, ng.Net.NbLayers(), ng2.Net.NbLayers(), err)
			}
		}
		t.Logf("%s changed %d of %d models, %d layers fewer; a second run changed %d", p.name, changed, len(models), removed, again)
		for _, k := range dsl.AllLayerTypes() {
			if byKind[k] > 0 {
				t.Logf("  %v: %d layers fewer in %d models", k, byKind[k], modelsByKind[k])
			}
		}
		if changed == 0 {
			t.Errorf("%s changed no model", p.name)
		}
	}
}

func countKinds(net *dsl.Network) map[dsl.LayerType]int {
	m := map[dsl.LayerType]int{}
	for _, l := range net.Layers() {
		m[l.Type()]++
	}
	return m
}

// TestCorpusPipeline runs the three passes in the order the pipeline does
// (Identities, CSE, DeadLayers) over the corpus: still bit for bit.
func TestCorpusPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus takes a while; run without -short")
	}
	before, after := 0, 0
	for _, m := range irtest.ConformanceModels(t) {
		g := ir.New(m.Net)
		for _, p := range []passFunc{Identities, CSE, DeadLayers} {
			ng, err := p(g, ir.Options{OptLevel: 3})
			if err == nil {
				err = ir.Check(ng)
			}
			if err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
			g = ng
		}
		before, after = before+m.Net.NbLayers(), after+g.Net.NbLayers()
		if g.Net == m.Net {
			continue
		}
		want, err := cpu.Run(m.Net, m.Inputs)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		got, err := cpu.Run(g.Net, m.Inputs)
		if err != nil {
			t.Errorf("%s: the result fails to run: %v", m.Name, err)
			continue
		}
		if err := irtest.Compare(want, got, 0); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
	t.Logf("%d layers before, %d after", before, after)
}
