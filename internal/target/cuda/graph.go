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
	"github.com/trtc/trtc/internal/tolerance"
	"github.com/trtc/trtc/tensor"
)

// CUDA graphs. They are on by default in a context of an engine that can
// be recorded (SetCUDAGraphs turns them off). With graphs on, a context records the steps of a shape plan
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

// warnf says on stderr that the context falls back to running step by
// step (a variable so that tests can see it).
var warnf = func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }

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

// CUDAGraphs reports whether graphs are on.
func (c *cudaContext) CUDAGraphs() bool { return c.useGraphs }

// capturable reports whether every step of the plan can be recorded into
// a CUDA graph, or why not.
func (x *executable) capturable() (bool, string) {
	for i, s := range x.plan.Steps {
		switch s.Kind {
		case kindHost:
			return false, fmt.Sprintf("%s runs on the host", dsl.LayerString(x.layers[i]))
		case kindPlugin:
			return false, fmt.Sprintf("%s launches a plugin", dsl.LayerString(x.layers[i]))
		case kindDeviceRegion:
			return false, fmt.Sprintf("%s ends a loop or conditional, whose control flow the run reads back", dsl.LayerString(x.layers[i]))
		case kindCounted:
			return false, fmt.Sprintf("the output dims of %s depend on data (the run waits for its count)", dsl.LayerString(x.layers[i]))
		}
	}
	return true, ""
}

// compute runs the plan's steps, through a graph where graphs are on and
// legal.
func (c *cudaContext) compute(ctx context.Context, sp *shapePlan) (*shapePlan, error) {
	if !c.useGraphs || profiling || sp.stop < len(c.x.layers) {
		return c.runSteps(ctx, sp)
	}
	return sp, c.computeGraph(ctx, sp)
}

// computeGraph runs a single-phase plan through its graph.
func (c *cudaContext) computeGraph(ctx context.Context, sp *shapePlan) error {
	key := graphKey{sp: sp, inputs: c.boundKey(), gen: c.gen}
	if g := c.graphs[key]; g != nil {
		for _, l := range c.x.shapeLayers {
			c.stageShape(sp, l)
		}
		return g.Launch(c.stream)
	}
	if !c.ranOnce[key] {
		c.ranOnce[key] = true
		_, err := c.runSteps(ctx, sp)
		return err
	}
	gen := c.gen
	g, err := c.stream.Capture(func() error { _, err := c.runSteps(ctx, sp); return err })
	if err == nil && c.gen != gen {
		g.Close()
		err = fmt.Errorf("a buffer grew during the capture")
	}
	if err != nil {
		c.useGraphs = false
		warnf("trtc/cuda: CUDA graphs turned off for this context: %v", err)
		_, err := c.runSteps(ctx, sp)
		return err
	}
	// The check runs the steps, so the arena holds their answer after it
	// whether or not the graph agrees.
	same, err := c.checkGraph(ctx, sp, g)
	switch {
	case err != nil:
		g.Close()
		return err
	case !same:
		g.Close()
		c.useGraphs = false
		warnf("trtc/cuda: CUDA graphs turned off for this context: the captured graph's outputs differ from the steps run one by one")
		return nil
	}
	c.graphs[key] = g
	return nil
}

// checkGraph replays g, then runs the steps one by one on the same
// inputs, and reports whether the graph's outputs can stand for the
// steps': the same bytes, or, where the steps give other bytes when run
// again (kernels whose reductions the scheduler orders, as some of
// cuDNN's engines and cuBLASLt's split reductions do), values within the
// output type's tolerance of the steps'. A graph that is wrong is far
// outside it: the misbehaving cuDNN engine of docs/cuda.md is off by
// whole units. The arena's input slots may be reused by later tensors,
// so the inputs held there are saved before the replay and put back
// before each run of the steps.
func (c *cudaContext) checkGraph(ctx context.Context, sp *shapePlan, g *cuda.GraphExec) (bool, error) {
	saved, err := c.saveArenaInputs(sp)
	if err != nil {
		return false, err
	}
	defer func() {
		for _, b := range saved {
			b.Free()
		}
	}()
	if err := g.Launch(c.stream); err != nil {
		return false, err
	}
	replayed, err := c.readOutputs(sp)
	if err != nil {
		return false, err
	}
	steps := func() ([][]byte, error) {
		for t, b := range saved {
			if err := c.stream.CopyDtoD(c.addr(sp, t), b.Ptr(), b.Size()); err != nil {
				return nil, err
			}
		}
		if _, err := c.runSteps(ctx, sp); err != nil {
			return nil, err
		}
		return c.readOutputs(sp)
	}
	stepwise, err := steps()
	if err != nil || sameBytes(replayed, stepwise) {
		return err == nil, err
	}
	again, err := steps()
	if err != nil || sameBytes(again, stepwise) {
		return false, err
	}
	for k, t := range c.x.net.Outputs() {
		if !withinTolerance(t.Type(), replayed[k], stepwise[k]) {
			return false, nil
		}
	}
	return true, nil
}

// withinTolerance reports whether got's values are within dt's
// tolerance (package tolerance, as the differential tests read it) of
// want's; integer and boolean outputs must be the same bytes.
func withinTolerance(dt dsl.DataType, got, want []byte) bool {
	tol := tolerance.For(dt).Scaled(16)
	if tol == (tolerance.Tol{}) {
		return bytes.Equal(got, want)
	}
	n := int64(len(want)) / dt.ByteSize(1)
	g, err1 := tensor.FromBytes(dt, []int64{n}, got)
	w, err2 := tensor.FromBytes(dt, []int64{n}, want)
	return err1 == nil && err2 == nil && tol.Compare(g.Float64s(), w.Float64s()) == nil
}

// readOutputs waits for the stream and copies the network outputs' bytes
// to the host.
func (c *cudaContext) readOutputs(sp *shapePlan) ([][]byte, error) {
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

// saveArenaInputs copies the network inputs that live in the arena (not
// those bound by ExecuteDevice, which the steps never write) into buffers
// of their own.
func (c *cudaContext) saveArenaInputs(sp *shapePlan) (map[*dsl.Tensor]*cuda.Buffer, error) {
	saved := map[*dsl.Tensor]*cuda.Buffer{}
	for _, t := range c.x.net.Inputs() {
		n := int(t.Type().ByteSize(volume(sp.dims[t])))
		if _, bound := c.bound[t]; bound || n == 0 {
			continue
		}
		b, err := c.x.dev.Alloc(n)
		if err == nil {
			err = c.stream.CopyDtoD(b.Ptr(), c.addr(sp, t), n)
		}
		if err != nil {
			if b != nil {
				b.Free()
			}
			for _, o := range saved {
				o.Free()
			}
			return nil, err
		}
		saved[t] = b
	}
	return saved, nil
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
