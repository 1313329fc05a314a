// Package compiled runs the ONNX backend test data through the whole
// pipeline (compiler, engine file, load, execute) for any target. It is
// apart from package conformance because the compiler's own passes are
// tested with conformance's corpus.
package compiled

import (
	"context"
	"fmt"

	"github.com/trtc/trtc/compiler"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/engine"
	"github.com/trtc/trtc/internal/conformance"
	"github.com/trtc/trtc/tensor"
)

// Runner builds each network with compiler.Build for target (a
// profile fixed at the inputs' shapes where dims are dynamic, the IR
// verifier after every pass), loads the engine from its file bytes and
// executes it: the whole pipeline, case by case.
func Runner(target string) conformance.Runner {
	return func(net *dsl.Network, in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
		shapes := map[string][]int64{}
		for _, x := range net.Inputs() {
			if !x.Dims().IsStatic() {
				shapes[x.Name()] = in[x.Name()].Shape()
			}
		}
		cfg := compiler.DefaultConfig()
		cfg.Target, cfg.Verify = target, true
		if len(shapes) > 0 {
			cfg.Profiles = []compiler.Profile{compiler.StaticProfile(shapes)}
		}
		plan, err := compiler.Build(net, cfg)
		if err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		eng, err := engine.LoadPlan(plan)
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		defer eng.Close()
		return eng.Run(context.Background(), in)
	}
}
