// Package dsl defines networks in Go with TensorRT's layer vocabulary.
//
// A Network is built the way TensorRT's INetworkDefinition is: AddInput,
// one Add* call per layer (AddConvolutionNd, AddActivation, ...), setters
// for optional parameters, MarkOutput. Each Add* infers its outputs' types
// and dims at once (dynamic dims are -1) and records problems with the
// caller's file:line instead of panicking; Err returns all of them.
//
// Networks are strongly typed, like TensorRT networks created with
// kSTRONGLY_TYPED: every tensor has one type, and type changes are explicit
// Cast layers.
package dsl

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/trtc/trtc/diag"
)

// Network is a graph of layers (TensorRT's INetworkDefinition).
type Network struct {
	name    string
	layers  []Layer
	tensors []*Tensor
	inputs  []*Tensor
	outputs []*Tensor
	// callErrs are mistakes made by calls that do not belong to one
	// layer's inference (a setter with a bad index, SetDims on a non-input).
	callErrs diag.List
	// staleFrom is the index of the first layer whose inferred outputs may
	// be out of date; refresh re-infers from there on. Adding a layer leaves
	// earlier layers current, so building a network costs one inference per
	// layer. dirty forces a refresh of every layer (an input changed).
	staleFrom  int
	dirty      bool
	refreshing bool
	// forwardRefs is set once SetInput makes a layer read a tensor produced
	// by a layer added after it; from then on inference and execution
	// follow TopoLayers instead of add order.
	forwardRefs bool
	// regionCopies maps the loops and conditionals of networks that
	// CopyLayer copied from to their copies in this network.
	regionCopies map[any]any
}

// NewNetwork returns an empty network.
func NewNetwork() *Network { return &Network{name: "network"} }

// Name returns the network's name.
func (n *Network) Name() string { return n.name }

// SetName names the network (used in diagnostics and engine metadata).
func (n *Network) SetName(name string) { n.name = name }

func (n *Network) newTensor(name string) *Tensor {
	t := &Tensor{net: n, id: len(n.tensors), name: name}
	n.tensors = append(n.tensors, t)
	return t
}

// AddInput adds a network input. Dims may contain -1 for dimensions given
// at run time.
func (n *Network) AddInput(name string, dt DataType, dims Dims) *Tensor {
	t := n.newTensor(name)
	t.isInput = true
	t.dtype = dt
	t.dims = dims.Clone()
	if t.dims == nil {
		t.dims = Dims{}
	}
	loc := callerLoc()
	if !dt.Valid() {
		n.callErrs = append(n.callErrs, &diag.Error{Code: diag.TypeMismatch, Index: -1, Loc: loc, Layer: name,
			Msg: fmt.Sprintf("input %q: %v is not a data type", name, dt)})
		t.bad = true
	}
	if err := checkInputDims(dims); err != nil {
		n.callErrs = append(n.callErrs, &diag.Error{Code: diag.ShapeMismatch, Index: -1, Loc: loc, Layer: name,
			Msg: fmt.Sprintf("input %q: %v", name, err)})
		t.bad = true
	}
	n.inputs = append(n.inputs, t)
	return t
}

// MarkOutput makes t a network output.
func (n *Network) MarkOutput(t *Tensor) {
	if !n.own(t, callerLoc(), "MarkOutput") {
		return
	}
	if t.isOutput {
		return
	}
	t.isOutput = true
	n.outputs = append(n.outputs, t)
}

// UnmarkOutput removes t from the network outputs.
func (n *Network) UnmarkOutput(t *Tensor) {
	if !n.own(t, callerLoc(), "UnmarkOutput") || !t.isOutput {
		return
	}
	t.isOutput = false
	for i, o := range n.outputs {
		if o == t {
			n.outputs = append(n.outputs[:i], n.outputs[i+1:]...)
			break
		}
	}
}

func (n *Network) own(t *Tensor, loc, what string) bool {
	switch {
	case t == nil:
		n.callErrs = append(n.callErrs, &diag.Error{Code: diag.InvalidArgument, Index: -1, Loc: loc, Msg: what + " with a nil tensor"})
		return false
	case t.net != n:
		n.callErrs = append(n.callErrs, &diag.Error{Code: diag.InvalidGraph, Index: -1, Loc: loc, Layer: t.name,
			Msg: fmt.Sprintf("%s: tensor %q belongs to network %q, not %q", what, t.name, t.net.name, n.name)})
		return false
	}
	return true
}

// NbInputs is the number of network inputs.
func (n *Network) NbInputs() int { return len(n.inputs) }

// Input returns network input i.
func (n *Network) Input(i int) *Tensor { return n.inputs[i] }

// Inputs returns the network inputs in the order they were added.
func (n *Network) Inputs() []*Tensor { return append([]*Tensor{}, n.inputs...) }

// NbOutputs is the number of network outputs.
func (n *Network) NbOutputs() int { return len(n.outputs) }

// Output returns network output i.
func (n *Network) Output(i int) *Tensor { return n.outputs[i] }

// Outputs returns the network outputs in the order they were marked.
func (n *Network) Outputs() []*Tensor { return append([]*Tensor{}, n.outputs...) }

// NbLayers is the number of layers.
func (n *Network) NbLayers() int { return len(n.layers) }

// Layer returns layer i in the order layers were added.
func (n *Network) Layer(i int) Layer { return n.layers[i] }

// Layers returns every layer in the order they were added.
func (n *Network) Layers() []Layer { return append([]Layer{}, n.layers...) }

// Tensors returns every tensor of the network (inputs and layer outputs).
func (n *Network) Tensors() []*Tensor { return append([]*Tensor{}, n.tensors...) }

// addError records a mistake made by a call at loc.
func (n *Network) addError(loc, layer, format string, args ...any) {
	n.callErrs = append(n.callErrs, &diag.Error{Code: diag.InvalidArgument, Index: -1, Loc: loc, Layer: layer,
		Msg: fmt.Sprintf(format, args...)})
}

// callerLoc is the file:line of the first caller outside this package and
// dsl/nn, so diagnostics point at the user's code.
func callerLoc() string {
	var pcs [32]uintptr
	n := runtime.Callers(2, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !isDSLFrame(f.Function) || strings.HasSuffix(f.File, "_test.go") {
			return fmt.Sprintf("%s:%d", shortPath(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}

const dslPkg = "github.com/trtc/trtc/dsl"

func isDSLFrame(fn string) bool {
	// fn looks like "github.com/trtc/trtc/dsl.(*Network).AddActivation" or
	// "github.com/trtc/trtc/dsl/nn.Linear".
	return strings.HasPrefix(fn, dslPkg+".") || strings.HasPrefix(fn, dslPkg+"/nn.")
}

// shortPath keeps the last two path elements: enough to find the file.
func shortPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return p
	}
	if j := strings.LastIndexByte(p[:i], '/'); j >= 0 {
		return p[j+1:]
	}
	return p
}

// Errorf records a problem found by code that builds networks on top of the
// DSL (dsl/nn, importers), at the caller's file:line, and returns a tensor
// that stands in for the value that could not be built. Layers that consume
// it stay quiet, so the problem is reported once; Err lists it.
func (n *Network) Errorf(code diag.Code, format string, args ...any) *Tensor {
	n.callErrs = append(n.callErrs, &diag.Error{Code: code, Index: -1, Loc: callerLoc(), Msg: fmt.Sprintf(format, args...)})
	t := n.newTensor(fmt.Sprintf("(failed %d)", len(n.tensors)))
	t.bad = true
	return t
}
