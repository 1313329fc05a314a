package einsum

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
)

// TestCorpus runs the pass over every ONNX backend test model that passes
// on the CPU engine: each result must verify and compute what the model
// computes (within the rounding of reordered sums), and every Einsum
// model must change.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus takes a while; skipped with -short")
	}
	changed, einsumModels := 0, 0
	for _, m := range irtest.ConformanceModels(t) {
		has := false
		for _, l := range m.Net.Layers() {
			has = has || l.Type() == dsl.LayerEinsum
		}
		if has {
			einsumModels++
		}
		if irtest.CheckPass(t, m.Name, AsMatMul, ir.Options{OptLevel: 2}, m.Net, m.Inputs, 64) {
			changed++
			if !has {
				t.Errorf("%s has no Einsum but changed", m.Name)
			}
		} else if has {
			t.Errorf("%s has an Einsum that stays (every one in the corpus has static dims)", m.Name)
		}
	}
	t.Logf("%d of %d models with an Einsum changed", changed, einsumModels)
	if einsumModels == 0 {
		t.Error("no model in the corpus has an Einsum")
	}
}
