package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/importers/onnx"
	"github.com/trtc/trtc/internal/cuda"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/ir/irtest"
)

// TestGeneratedKernelsCompile writes the kernels of every ONNX conformance
// model and of the PyTorch exports (dynamic and static shapes) and
// compiles them with NVRTC, which needs no GPU: where NVRTC is installed
// a kernel NVRTC rejects, or one it takes long over, shows up without the
// GPU machine. It skips where NVRTC is not installed (CI).
func TestGeneratedKernelsCompile(t *testing.T) {
	if _, _, err := cuda.NVRTCVersion(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	type named struct {
		name string
		net  *dsl.Network
	}
	var nets []named
	for _, f := range []string{"tiny_bert.onnx", "small_cnn.onnx", "transformer_block.onnx"} {
		for _, static := range []bool{false, true} {
			net, err := onnx.Import("../../../importers/onnx/testdata/pytorch/"+f, onnx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if static {
				for _, in := range net.Inputs() {
					d := in.Dims()
					for k := range d {
						if d[k] < 0 {
							d[k] = 64 // batch 64: large enough to bake the shapes in
						}
					}
					in.SetDims(d)
				}
			}
			nets = append(nets, named{fmt.Sprintf("%s (static %v)", f, static), net})
		}
	}
	for _, m := range irtest.ConformanceModels(t) {
		nets = append(nets, named{m.Name, m.Net})
	}
	start := time.Now()
	kernels := 0
	for _, n := range nets {
		_, srcs, err := lowerNetwork(n.net, ir.Options{})
		if errors.Is(err, diag.UnsupportedNode) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		t0 := time.Now()
		if _, err := compileKernels(srcs, "sm_80"); err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		if d := time.Since(t0); d > 20*time.Second {
			t.Errorf("%s: NVRTC took %v for %d kernels", n.name, d, len(srcs))
			if dir := os.Getenv("TRTC_DUMP_SLOW_KERNELS"); dir != "" {
				for k, src := range srcs {
					os.WriteFile(filepath.Join(dir, k+".cu"), []byte(src), 0o644)
				}
			}
		}
		kernels += len(srcs)
	}
	t.Logf("%d networks, %d kernels written, compiled in %v", len(nets), kernels, time.Since(start))
}
