// Package passes runs the compiler's pass pipeline over an ir.Graph. The
// passes are one declarative list (pipeline below), each with the passes it
// must follow; the order is checked at init. Each pass lives in its own
// package under internal/passes, with its own differential test.
package passes

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/passes/attention"
	"github.com/trtc/trtc/internal/passes/autocast"
	"github.com/trtc/trtc/internal/passes/einsum"
	"github.com/trtc/trtc/internal/passes/fold"
	"github.com/trtc/trtc/internal/passes/fuse"
	"github.com/trtc/trtc/internal/passes/gelu"
	"github.com/trtc/trtc/internal/passes/matmulop"
	"github.com/trtc/trtc/internal/passes/qdq"
	"github.com/trtc/trtc/internal/passes/simplify"
	"github.com/trtc/trtc/internal/passes/weightfold"
)

// Pass is one rewrite of the graph.
type Pass struct {
	Name string
	// Run returns the rewritten graph (g itself when nothing changed). It
	// must not modify g: passes rebuild (ir.Rebuilder).
	Run func(g *ir.Graph, o ir.Options) (*ir.Graph, error)
	// Required passes run at every optimization level; the others run from
	// MinLevel up.
	Required bool
	MinLevel int
	// After names passes that must come before this one in the list.
	After []string
}

// pipeline is the order passes run in.
var pipeline = []Pass{
	{Name: "fold", Run: fold.Constants, Required: true},                                  // constant subgraphs, shape arithmetic on static shapes
	{Name: "identities", Run: simplify.Identities, MinLevel: 1, After: []string{"fold"}}, // identity, no-op cast/shuffle removal; cast chains, shuffle merging
	{Name: "gelu", Run: gelu.Erf, MinLevel: 1, After: []string{"identities"}},
	{Name: "einsum", Run: einsum.AsMatMul, MinLevel: 1, After: []string{"identities"}},                                    // transposes, sums and batched products become Shuffle, Reduce and MatrixMultiply layers
	{Name: "matmul-transposes", Run: matmulop.TransposesIntoMatMul, MinLevel: 1, After: []string{"identities", "einsum"}}, // a transpose's swap of the last two axes becomes the multiply's operation                                      // the five layers of an exported erf GELU become one activation
	{Name: "attention", Run: attention.Fuse, MinLevel: 1, After: []string{"matmul-transposes"}},                           // MatMul, scale, mask, SoftMax, MatMul become one Attention layer
	{Name: "cse", Run: simplify.CSE, MinLevel: 1, After: []string{"identities"}},                                          // layers computing the same thing become one
	{Name: "dead-layers", Run: simplify.DeadLayers, Required: true, After: []string{"cse"}},                               // layers no output needs
	{Name: "weightfold", Run: weightfold.ScaleIntoConv, MinLevel: 1, After: []string{"fold", "dead-layers"}},              // BatchNorm/Scale/bias into the convolution's weights
	{Name: "matmulfold", Run: weightfold.ScaleIntoMatMul, MinLevel: 1, After: []string{"fold", "dead-layers"}},            // per-column factors into a matrix multiply's constant operand
	{Name: "qdq", Run: qdq.Propagate, MinLevel: 1, After: []string{"fold"}},                                               // Dequantize later, Quantize/Dequantize pairs cancel
	{Name: "autocast", Run: autocast.Autocast, Required: true, After: []string{"weightfold", "matmulfold", "qdq"}},        // fp16/bf16 with fp32 where it matters; precision decisions
	{Name: "fuse", Run: fuse.Fuse, MinLevel: 1, After: []string{"autocast", "weightfold", "dead-layers"}},                 // fusion groups for GPU targets (annotations: the network is unchanged)
}

func init() {
	if err := checkOrder(pipeline); err != nil {
		panic(err)
	}
}

// checkOrder verifies names are unique and every After constraint names an
// earlier pass of the list.
func checkOrder(ps []Pass) error {
	pos := map[string]int{}
	for i, p := range ps {
		if p.Name == "" || p.Run == nil {
			return fmt.Errorf("passes: pass %d has no name or no Run", i)
		}
		if _, dup := pos[p.Name]; dup {
			return fmt.Errorf("passes: pass %q is listed twice", p.Name)
		}
		pos[p.Name] = i
	}
	for i, p := range ps {
		for _, a := range p.After {
			j, ok := pos[a]
			switch {
			case !ok:
				return fmt.Errorf("passes: %q must run after %q, which is not a pass", p.Name, a)
			case j >= i:
				return fmt.Errorf("passes: %q must run after %q, but is listed before it", p.Name, a)
			}
		}
	}
	return nil
}

// Names lists the passes in order.
func Names() []string {
	out := make([]string, len(pipeline))
	for i, p := range pipeline {
		out[i] = p.Name
	}
	return out
}

// Report is what one pass did, for build summaries and progress.
type Report struct {
	Pass                      string
	LayersBefore, LayersAfter int
	FusionsAfter              int
	Skipped                   bool // below its MinLevel
	Duration                  time.Duration
}

// Config controls a pipeline run.
type Config struct {
	Options ir.Options
	// Verify runs ir.Check before the first pass and after every pass (on
	// in tests and with the compiler's debug flag).
	Verify bool
	// Progress is called after every pass.
	Progress func(Report)
}

// Run applies the pipeline to g. A panic in a pass is a bug; it becomes an
// internal error naming the pass and the network.
func Run(g *ir.Graph, c Config) (*ir.Graph, []Report, error) {
	return run(pipeline, g, c)
}

func run(ps []Pass, g *ir.Graph, c Config) (out *ir.Graph, reports []Report, err error) {
	if c.Verify {
		if err := ir.Check(g); err != nil {
			return nil, nil, fmt.Errorf("before the first pass: %w", err)
		}
	}
	for _, p := range ps {
		r := Report{Pass: p.Name, LayersBefore: g.Net.NbLayers()}
		if !p.Required && c.Options.OptLevel < p.MinLevel {
			r.Skipped, r.LayersAfter, r.FusionsAfter = true, r.LayersBefore, len(g.Fusions)
			reports = append(reports, r)
			continue
		}
		start := time.Now()
		ng, err := runOne(p, g, c.Options)
		if err != nil {
			return nil, reports, err
		}
		if c.Verify {
			if err := ir.Check(ng); err != nil {
				return nil, reports, diag.Wrap(diag.Internal, err, "after pass %s on network %q", p.Name, g.Net.Name())
			}
		}
		g = ng
		r.Duration, r.LayersAfter, r.FusionsAfter = time.Since(start), g.Net.NbLayers(), len(g.Fusions)
		reports = append(reports, r)
		if c.Progress != nil {
			c.Progress(r)
		}
	}
	return g, reports, nil
}

func runOne(p Pass, g *ir.Graph, o ir.Options) (ng *ir.Graph, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = diag.Errorf(diag.Internal, "internal error during pass %s on network %q: %v\n%s", p.Name, g.Net.Name(), v, debug.Stack())
		}
	}()
	ng, err = p.Run(g, o)
	if err != nil {
		return nil, fmt.Errorf("pass %s: %w", p.Name, err)
	}
	if ng == nil {
		return nil, diag.Errorf(diag.Internal, "pass %s on network %q returned no graph", p.Name, g.Net.Name())
	}
	return ng, nil
}
