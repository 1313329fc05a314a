package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
)

// Diagnostics returns every problem in the network, errors and warnings:
// each layer's (with the file:line that added it), mistakes made by calls,
// and whole-network checks (cycles, unused inputs, missing outputs,
// duplicate I/O names, outputs nobody reads).
func (n *Network) Diagnostics() diag.List {
	n.dirty = true
	n.refresh()
	var out diag.List
	out = append(out, n.callErrs...)
	for _, l := range n.layers {
		out = append(out, l.base().problems...)
	}
	out = append(out, n.graphProblems()...)
	return out
}

// Err returns all errors in the network as a diag.List, or nil.
func (n *Network) Err() error { return n.Diagnostics().Err() }

// backEdger is implemented by layers with an input that may be produced
// later in the network (a loop's recurrence); cycle checks ignore it.
type backEdger interface{ isBackEdge(input int) bool }

func (n *Network) graphProblems() diag.List {
	var out diag.List
	graphErr := func(sev diag.Severity, format string, args ...any) {
		out = append(out, &diag.Error{Code: diag.InvalidGraph, Severity: sev, Index: -1, Msg: fmt.Sprintf(format, args...)})
	}
	if len(n.outputs) == 0 {
		graphErr(diag.SeverityError, "network %q has no outputs; call MarkOutput on the tensors to return", n.name)
	}
	// Unique binding names.
	seen := map[string]bool{}
	for _, t := range append(n.Inputs(), n.outputs...) {
		if seen[t.name] && !(t.isInput && t.isOutput) {
			graphErr(diag.SeverityError, "two network inputs/outputs are named %q; engine bindings need unique names", t.name)
		}
		seen[t.name] = true
	}
	// Who reads each tensor.
	used := make([]bool, len(n.tensors))
	for _, l := range n.layers {
		// Through the Layer methods: a recurrence keeps its next value
		// apart from base().inputs.
		for i := 0; i < l.NbInputs(); i++ {
			if t := l.Input(i); t != nil && t.net == n {
				used[t.id] = true
			}
		}
	}
	for _, t := range n.inputs {
		if !used[t.id] && !t.isOutput {
			// A warning, as in TensorRT ("Unused Input"): ONNX graphs list
			// inputs some ops ignore (CastLike's target), and an engine keeps
			// the binding so callers need not change.
			graphErr(diag.SeverityWarning, "network input %q is not used by any layer", t.name)
		}
	}
	for _, l := range n.layers {
		for _, t := range l.base().outputs {
			if !used[t.id] && !t.isOutput {
				b := l.base()
				out = append(out, &diag.Error{Code: diag.InvalidGraph, Severity: diag.SeverityWarning, Layer: b.name,
					Op: b.kind.String(), Index: b.index, Loc: b.loc,
					Msg: fmt.Sprintf("output %q is never used and is not a network output; the layer will be removed", t.name)})
			}
		}
	}
	out = append(out, n.cycleProblems()...)
	out = append(out, n.regionProblems()...)
	return out
}

// cycleProblems finds layers that depend on their own outputs through
// SetInput, ignoring loop back edges.
func (n *Network) cycleProblems() diag.List {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(n.layers))
	var out diag.List
	var visit func(l Layer) bool
	visit = func(l Layer) bool {
		b := l.base()
		switch state[b.index] {
		case visiting:
			out = append(out, &diag.Error{Code: diag.InvalidGraph, Layer: b.name, Op: b.kind.String(), Index: b.index, Loc: b.loc,
				Msg: "the layer depends on its own output (a cycle); only a loop's Recurrence layer may take a value from later in the network"})
			return false
		case done:
			return true
		}
		state[b.index] = visiting
		be, _ := l.(backEdger)
		ok := true
		for i, t := range b.inputs {
			if t == nil || t.net != n || t.producer == nil || (be != nil && be.isBackEdge(i)) {
				continue
			}
			if !visit(t.producer) {
				ok = false
				break
			}
		}
		state[b.index] = done
		return ok
	}
	for _, l := range n.layers {
		if state[l.base().index] == unvisited {
			visit(l)
		}
	}
	return out
}
