package cuda

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
)

// CUDA graphs. With graphs on, a context records the steps of a shape plan
// as one CUDA graph the second time it runs them (the first run makes
// cuDNN's plans, times them and grows the buffers, none of which a capture
// may do) and replays the graph from then on: one launch per inference
// instead of one per step. A graph holds device addresses, so it belongs to
// one shape plan, one set of input addresses and one generation of the
// context's buffers; growing any buffer drops every graph.
//
// The first replay is checked: the graph's outputs must equal, byte for
// byte, those of the same steps run one by one; if they differ, or the
// capture fails (a library call that cannot be captured), the context
// turns graphs off, says so on stderr, and runs step by step.

// graphKey names one captured graph.
type graphKey struct {
	sp     *shapePlan
	inputs string // the bound input addresses (ExecuteDevice), "" for the arena's
	gen    int
}

// SetCUDAGraphs turns graph capture and replay on or off for the context.
// Engines with steps that run on the host or launch a plugin cannot be
// captured: turning graphs on for them is an error that names the step.
func (c *cudaContext) SetCUDAGraphs(on bool) error {
	if ok, why := c.x.capturable(); on && !ok {
		return diag.Errorf(diag.InvalidArgument, "this engine cannot be recorded as a CUDA graph: %s", why)
	}
	c.useGraphs = on
	if !on {
		c.dropGraphs()
	}
	return nil
}

// capturable reports whether every step of the plan can be recorded into
// a CUDA graph, or why not.
func (x *executable) capturable() (bool, string) {
	for i, s := range x.plan.Steps {
		switch s.Kind {
		case kindHost:
			return false, fmt.Sprintf("%s runs on the host", dsl.LayerString(x.layers[i]))
		case kindPlugin:
			return false, fmt.Sprintf("%s launches a plugin", dsl.LayerString(x.layers[i]))
		}
	}
	return true, ""
}

// compute runs the plan's steps, through a graph where graphs are on and
// legal.
func (c *cudaContext) compute(ctx context.Context, sp *shapePlan) error {
	if !c.useGraphs || profiling {
		return c.runSteps(ctx, sp)
	}
	key := graphKey{sp: sp, inputs: c.boundKey(), gen: c.gen}
	if g := c.graphs[key]; g != nil {
		for _, l := range c.x.shapeLayers {
			c.stageShape(sp, l)
		}
		return g.Launch(c.stream)
	}
	if !c.ranOnce[key] {
		c.ranOnce[key] = true
		return c.runSteps(ctx, sp)
	}
	gen := c.gen
	g, err := c.stream.Capture(func() error { return c.runSteps(ctx, sp) })
	if err == nil && c.gen != gen {
		g.Close()
		err = fmt.Errorf("a buffer grew during the capture")
	}
	if err == nil {
		err = c.checkGraph(ctx, sp, g)
		if err != nil {
			g.Close()
		}
	}
	if err != nil {
		c.useGraphs = false
		fmt.Fprintf(os.Stderr, "trtc/cuda: CUDA graphs turned off for this context: %v\n", err)
		return c.runSteps(ctx, sp)
	}
	c.graphs[key] = g
	return nil
}

// checkGraph replays g and runs the steps one by one, and compares the
// network outputs of the two.
func (c *cudaContext) checkGraph(ctx context.Context, sp *shapePlan, g *cuda.GraphExec) error {
	read := func() ([][]byte, error) {
		if err := c.stream.Synchronize(); err != nil {
			return nil, err
		}
		var outs [][]byte
		for _, t := range c.x.net.Outputs() {
			b := make([]byte, t.Type().ByteSize(volume(sp.dims[t])))
			if err := c.x.dev.CopyDtoH(b, c.addr(sp, t)); err != nil {
				return nil, err
			}
			outs = append(outs, b)
		}
		return outs, nil
	}
	if err := g.Launch(c.stream); err != nil {
		return err
	}
	replayed, err := read()
	if err != nil {
		return err
	}
	if err := c.runSteps(ctx, sp); err != nil {
		return err
	}
	stepwise, err := read()
	if err != nil {
		return err
	}
	for k, t := range c.x.net.Outputs() {
		if !bytes.Equal(replayed[k], stepwise[k]) {
			return fmt.Errorf("the captured graph's output %q differs from the steps run one by one", t.Name())
		}
	}
	return nil
}

// boundKey names the input addresses bound by ExecuteDevice, in the
// network's input order.
func (c *cudaContext) boundKey() string {
	if len(c.bound) == 0 {
		return ""
	}
	var b strings.Builder
	for _, in := range c.x.net.Inputs() {
		fmt.Fprintf(&b, "%x,", uint64(c.bound[in]))
	}
	return b.String()
}

// buffersChanged is called when a buffer the steps use is reallocated:
// graphs that hold its old address are dropped.
func (c *cudaContext) buffersChanged() {
	c.gen++
	c.dropGraphs()
}

func (c *cudaContext) dropGraphs() {
	for k, g := range c.graphs {
		g.Close()
		delete(c.graphs, k)
	}
	clear(c.ranOnce)
}
