package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/importers/onnx/onnxpb"
)

// functionKey is the map key of a model-local function: its normalized
// domain and its name, with ":"+overload appended when the function has an
// overload (IR version 10), so that overloads of one name stay distinct.
func functionKey(domain, name, overload string) [2]string {
	if overload != "" {
		name += ":" + overload
	}
	return [2]string{NormalizeDomain(domain), name}
}

// checkFunctions rejects model-local functions without a name and two
// functions with the same (domain, name, overload), which would make a node
// that calls them ambiguous.
func (m *Model) checkFunctions() error {
	seen := map[[2]string]bool{}
	for i, f := range m.Proto.GetFunctions() {
		if f.GetName() == "" {
			return diag.Errorf(diag.InvalidFile, "model-local function %d has no name", i)
		}
		k := functionKey(f.GetDomain(), f.GetName(), f.GetOverload())
		if seen[k] {
			return diag.Errorf(diag.InvalidFile, "model-local function %q of domain %q is defined twice", k[1], domainName(k[0]))
		}
		seen[k] = true
	}
	return nil
}

// Functions returns the model-local functions keyed by (domain, name); the
// domain is normalized ("ai.onnx" is ""), and a function with an overload
// has the key name "name:overload". Nodes whose (domain, op_type, overload)
// match a function are calls to it.
func (m *Model) Functions() map[[2]string]*onnxpb.FunctionProto {
	out := map[[2]string]*onnxpb.FunctionProto{}
	for _, f := range m.Proto.GetFunctions() {
		out[functionKey(f.GetDomain(), f.GetName(), f.GetOverload())] = f
	}
	return out
}

// Function returns the model-local function a node with this domain,
// op_type and overload calls, or nil if there is none.
func (m *Model) Function(domain, name, overload string) *onnxpb.FunctionProto {
	k := functionKey(domain, name, overload)
	for _, f := range m.Proto.GetFunctions() {
		if functionKey(f.GetDomain(), f.GetName(), f.GetOverload()) == k {
			return f
		}
	}
	return nil
}
