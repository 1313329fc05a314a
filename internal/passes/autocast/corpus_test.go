package autocast

import (
	"fmt"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
	"github.com/trtc/trtc/internal/target/cpu"
)

// TestConformanceModels autocasts every ONNX backend test model that
// passes on the CPU engine to fp16 and to bf16. The result must pass ir.Check, keep
// its bindings, run on the CPU engine with the model's own inputs and give
// outputs of the same types and shapes. Values are not compared: fp16 on
// arbitrary models (exp of large values, integer-valued float math, huge
// sums) is not within any fp16 tolerance, which is why autocast is
// opt-in.
func TestConformanceModels(t *testing.T) {
	models := irtest.ConformanceModels(t)
	for _, dt := range halves {
		t.Run(DescribePrecision(dt), func(t *testing.T) { corpus(t, models, dt) })
	}
}

func corpus(t *testing.T, models []irtest.Model, dt dsl.DataType) {
	changed, casts := 0, 0
	for _, m := range models {
		g, err := Autocast(ir.New(m.Net), ir.Options{Compute: dt})
		if err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		if err := ir.Check(g); err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		checkIO(t, m.Net, g.Net)
		if g.Net == m.Net {
			continue
		}
		changed++
		casts += countKind(g.Net, dsl.LayerCast) - countKind(m.Net, dsl.LayerCast)
		want, err := cpu.Run(m.Net, m.Inputs)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		got, err := cpu.Run(g.Net, m.Inputs)
		if err != nil {
			t.Errorf("%s: the %s network fails: %v", m.Name, DescribePrecision(dt), err)
			continue
		}
		for name, w := range want {
			o, ok := got[name]
			switch {
			case !ok:
				t.Errorf("%s: output %q is missing", m.Name, name)
			case o.DType() != w.DType() || fmt.Sprint(o.Shape()) != fmt.Sprint(w.Shape()):
				t.Errorf("%s: output %q is %v %v, want %v %v", m.Name, name, o.DType(), o.Shape(), w.DType(), w.Shape())
			}
		}
	}
	t.Logf("autocast to %s changed %d of %d models (%d casts inserted)", DescribePrecision(dt), changed, len(models), casts)
	if len(models) > 0 && changed == 0 {
		t.Error("autocast changed no model")
	}
}
