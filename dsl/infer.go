package dsl

import (
	"fmt"
	"runtime/debug"

	"github.com/trtc/trtc/diag"
)

// inferCtx is what a layer's infer method sees: its inputs, and where to
// put output types, dims and problems.
type inferCtx struct {
	l *layerBase
}

// in returns input i, or nil when it is an unset optional input.
func (c *inferCtx) in(i int) *Tensor { return c.l.Input(i) }

// has reports whether optional input i is set.
func (c *inferCtx) has(i int) bool { return c.in(i) != nil }

// values returns the build-time contents of input i if known.
func (c *inferCtx) values(i int) ([]int64, bool) {
	t := c.in(i)
	if t == nil || t.values == nil {
		return nil, false
	}
	return t.values, true
}

// setOutput sets output i's type and dims.
func (c *inferCtx) setOutput(i int, dt DataType, d Dims) {
	t := c.l.outputs[i]
	t.dtype = dt
	t.dims = d.Clone()
	if t.dims == nil {
		t.dims = Dims{}
	}
}

// setValues records the build-time contents of output i (shape tensors).
func (c *inferCtx) setValues(i int, v []int64) {
	c.l.outputs[i].values = append([]int64{}, v...)
}

func (c *inferCtx) report(sev diag.Severity, code diag.Code, format string, args ...any) {
	c.l.problems = append(c.l.problems, &diag.Error{
		Code: code, Severity: sev, Layer: c.l.name, Op: c.l.kind.String(), Index: c.l.index,
		Loc: c.l.loc, Msg: fmt.Sprintf(format, args...),
	})
}

// errorf records an error; the layer's outputs become unusable and layers
// downstream stay quiet about them.
func (c *inferCtx) errorf(code diag.Code, format string, args ...any) {
	c.report(diag.SeverityError, code, format, args...)
}

// failed reports whether errorf was called during this inference.
func (c *inferCtx) failed() bool { return c.l.problems.HasErrors() }

// refresh re-infers every layer if anything changed since the last time.
// Layers are visited in the order they were added, which is a topological
// order except for loop back edges (Recurrence input 1), whose consumers
// take their dims from the initial value.
func (n *Network) refresh() {
	if n.refreshing {
		return
	}
	if n.dirty {
		n.staleFrom, n.dirty = 0, false
	}
	if n.staleFrom >= len(n.layers) {
		return
	}
	n.refreshing = true
	defer func() { n.refreshing = false }()
	stale := n.layers[n.staleFrom:]
	if n.forwardRefs {
		// Some layer reads a tensor produced by a layer added after it, so
		// add order is not a dependency order: re-infer everything in one.
		stale = n.TopoLayers()
	}
	for _, l := range stale {
		n.inferLayer(l)
	}
	n.staleFrom = len(n.layers)
}

// TopoLayers returns the layers in an order where every layer comes after
// the producers of its inputs (loop back edges aside): add order, except
// that a producer added after its consumer (SetInput with a later tensor,
// as TensorRT allows) moves before it. Layers on a cycle keep add order;
// Err reports the cycle.
func (n *Network) TopoLayers() []Layer {
	if !n.forwardRefs {
		return n.Layers()
	}
	state := make([]uint8, len(n.layers)) // 0 new, 1 visiting, 2 done
	out := make([]Layer, 0, len(n.layers))
	var visit func(l Layer)
	visit = func(l Layer) {
		b := l.base()
		if state[b.index] != 0 {
			return
		}
		state[b.index] = 1
		be, _ := l.(backEdger)
		for i, t := range b.inputs {
			if t == nil || t.net != n || t.producer == nil || (be != nil && be.isBackEdge(i)) {
				continue
			}
			visit(t.producer)
		}
		state[b.index] = 2
		out = append(out, l)
	}
	for _, l := range n.layers {
		visit(l)
	}
	return out
}

// changed marks a layer's parameters or inputs as modified: it and every
// layer added after it are re-inferred on the next query.
func (l *layerBase) changed() {
	if l.index < l.net.staleFrom {
		l.net.staleFrom = l.index
	}
}

func (n *Network) inferLayer(l Layer) {
	b := l.base()
	b.problems = nil
	for _, t := range b.outputs {
		t.bad, t.values = false, nil
	}
	c := &inferCtx{l: b}
	if !n.checkInputs(c) {
		n.markBad(b)
		return
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				c.errorf(diag.Internal, "internal error while inferring shapes: %v\n%s", r, debug.Stack())
			}
		}()
		l.infer(c)
	}()
	if c.failed() {
		n.markBad(b)
	}
}

func (n *Network) markBad(b *layerBase) {
	for _, t := range b.outputs {
		t.bad = true
		t.values = nil
	}
}

// checkInputs verifies required inputs are present and every input belongs
// to this network. It returns false when inference cannot run; it reports
// only problems of this layer, not ones inherited from a bad input.
func (n *Network) checkInputs(c *inferCtx) bool {
	ok := true
	for i, t := range c.l.inputs {
		switch {
		case t == nil && i < c.l.nbRequired:
			c.errorf(diag.InvalidArgument, "input %d is nil", i)
			ok = false
		case t == nil:
		case t.net != n:
			c.errorf(diag.InvalidGraph, "input %d (%q) belongs to network %q, not to %q", i, t.name, t.net.name, n.name)
			ok = false
		case t.bad:
			ok = false
		}
	}
	return ok
}
