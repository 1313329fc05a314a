package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
)

// isEngineFile reports whether path starts with the engine file magic.
func isEngineFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(engine.Magic))
	n, _ := io.ReadFull(f, b)
	return n == len(b) && bytes.Equal(b, []byte(engine.Magic))
}

// loadedModel is what run, bench and compare execute: an engine read from
// a file, or one built now from an ONNX model (then net is the imported
// network, the CPU engine's reference).
type loadedModel struct {
	eng  *engine.Engine
	net  *dsl.Network
	plan *engine.Plan
}

// openModel loads an engine file, or imports and compiles an ONNX model
// with the build flags, printing what it did.
func openModel(w io.Writer, path string, o *buildOptions) (*loadedModel, error) {
	if isEngineFile(path) {
		eng, err := engine.Load(path)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "loaded engine %s: target %s, %d layers\n", filepath.Base(path), eng.Target(), len(eng.Layers()))
		return &loadedModel{eng: eng}, nil
	}
	start := time.Now()
	net, err := importModel(path)
	if err != nil {
		return nil, err
	}
	importTime := time.Since(start)
	cfg, err := o.config(w, net, filepath.Base(path))
	if err != nil {
		return nil, err
	}
	plan, buildTime, err := buildPlan(w, net, cfg)
	if err != nil {
		return nil, err
	}
	eng, err := engine.LoadPlan(plan)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "imported %s in %v; compiled in %v: %s\n", filepath.Base(path), importTime.Round(time.Millisecond), buildTime.Round(time.Millisecond), oneLineSummary(plan))
	if why := passedOver(plan); why != "" {
		fmt.Fprintf(w, "target auto chose %s: %s\n", plan.Manifest.GetTarget(), why)
	}
	return &loadedModel{eng: eng, net: net, plan: plan}, nil
}

// passedOver says why --target auto did not pick the targets before the
// one it chose ("tensorrt: not in this build; cuda: ...").
func passedOver(p *engine.Plan) string {
	var why []string
	for _, w := range p.Manifest.GetBuild().GetWarnings() {
		if r, ok := strings.CutPrefix(w, "target auto passed over "); ok {
			if i := strings.Index(r, "; tried"); i > 0 {
				r = r[:i] // the full search list is in trtc inspect's notes
			}
			why = append(why, r)
		}
	}
	return strings.Join(why, "; ")
}
