package attention

import (
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
)

// TestCorpus runs the pass on every ONNX backend test model that runs on
// the CPU engine: whatever it rewrites must compute what the model does.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus takes a while; skipped with -short")
	}
	changed := 0
	for _, m := range irtest.ConformanceModels(t) {
		if irtest.CheckPass(t, m.Name, Fuse, ir.Options{OptLevel: 2, Compute: dsl.Float16}, m.Net, m.Inputs, 8) {
			changed++
			t.Logf("%s rewritten", m.Name)
		}
	}
	t.Logf("%d models rewritten", changed)
}
