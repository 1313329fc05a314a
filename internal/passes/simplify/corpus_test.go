package simplify

import (
	"testing"

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
		changed, removed := 0, 0
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
		}
		t.Logf("%s changed %d of %d models, %d layers fewer", p.name, changed, len(models), removed)
		if changed == 0 {
			t.Errorf("%s changed no model", p.name)
		}
	}
}
