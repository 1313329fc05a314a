package ir_test

import (
	"testing"

	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target/cpu"
)

// TestRebuildCopiesEveryModel copies every layer of every ONNX backend test
// model that passes on the CPU engine (loops, conditionals and scans
// included) and checks the copy computes the same outputs, bit for bit.
func TestRebuildCopiesEveryModel(t *testing.T) {
	models := irtest.ConformanceModels(t)
	if len(models) < 900 {
		t.Fatalf("only %d conformance models pass on the CPU engine; expected about 998", len(models))
	}
	for _, m := range models {
		r := ir.NewRebuilder(m.Net)
		for _, l := range m.Net.TopoLayers() {
			r.Copy(l)
		}
		cp, err := r.Finish()
		if err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		if cp.NbLayers() != m.Net.NbLayers() {
			t.Errorf("%s: copy has %d layers, want %d", m.Name, cp.NbLayers(), m.Net.NbLayers())
		}
		if err := ir.Check(ir.New(cp)); err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		want, err := cpu.Run(m.Net, m.Inputs)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		got, err := cpu.Run(cp, m.Inputs)
		if err != nil {
			t.Errorf("%s: the copy fails: %v", m.Name, err)
			continue
		}
		if err := irtest.Compare(want, got, 0); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
}
