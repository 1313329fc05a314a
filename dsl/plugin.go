package dsl

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

// Plugin is an op implemented outside trtc's layer vocabulary (the
// counterpart of TensorRT's IPluginV3 with its build and runtime
// capabilities). The plugin registry implements it; the dsl only calls it,
// so it does not depend on the registry.
//
// The input lists given to OutputTypes, OutputDims and ExecuteCPU hold the
// layer's data inputs followed by its shape inputs, in the order given to
// AddPluginV3.
type Plugin interface {
	// PluginName, PluginVersion and PluginNamespace identify the plugin
	// (TensorRT's plugin creator name, version and namespace).
	PluginName() string
	PluginVersion() string
	PluginNamespace() string
	// Attributes are the plugin's parameters (TensorRT's plugin fields),
	// recorded in engines and shown by inspection tools.
	Attributes() map[string]any
	// NbOutputs is the number of outputs, fixed for the plugin's life.
	NbOutputs() int
	// OutputTypes returns one type per output from the input types, or an
	// error when the types are not supported.
	OutputTypes(in []DataType) ([]DataType, error)
	// OutputDims returns one shape per output from the input shapes. At
	// build time dims may be -1 (dynamic); an output dim that depends on
	// one should be -1. The error says why the shapes are not accepted.
	OutputDims(in []Dims) ([]Dims, error)
	// ExecuteCPU computes the outputs from concrete inputs (every dim
	// known). It returns NbOutputs tensors whose types are OutputTypes's
	// and whose shapes are OutputDims's for these inputs. It must not
	// modify its inputs (other layers may read the same tensors) and may
	// be called concurrently by engines running in parallel.
	ExecuteCPU(in []*tensor.Tensor) ([]*tensor.Tensor, error)
}

// PluginLayer runs a Plugin (TensorRT IPluginV3Layer). Inputs 0..n-1 are
// the data inputs, the rest the shape inputs (Int32/Int64 vectors whose
// values the plugin reads to compute its output shapes).
type PluginLayer struct {
	layerBase
	plugin        Plugin
	nbShapeInputs int
	// unresolved marks a layer whose AddPlugin call named no usable
	// plugin; the call recorded the error, and the one output is bad.
	unresolved bool
}

// AddPluginV3 adds a plugin layer (TensorRT addPluginV3).
func (n *Network) AddPluginV3(inputs []*Tensor, shapeInputs []*Tensor, p Plugin) *PluginLayer {
	l := &PluginLayer{plugin: p, nbShapeInputs: len(shapeInputs)}
	nbOut := 0
	if p != nil {
		nbOut = max(p.NbOutputs(), 0)
	}
	all := append(append([]*Tensor{}, inputs...), shapeInputs...)
	n.addLayer(l, LayerPlugin, nbOut, len(all), all...)
	return l
}

// Plugin returns the layer's plugin (TensorRT getPlugin).
func (l *PluginLayer) Plugin() Plugin { return l.plugin }

// NbShapeInputs is how many of the inputs (the last ones) are shape inputs.
func (l *PluginLayer) NbShapeInputs() int { return l.nbShapeInputs }

// PluginID names a plugin as "name version namespace" for diagnostics.
func PluginID(p Plugin) string {
	if p == nil {
		return "<nil plugin>"
	}
	return fmt.Sprintf("plugin %q version %q namespace %q", p.PluginName(), p.PluginVersion(), p.PluginNamespace())
}

func (l *PluginLayer) infer(c *inferCtx) {
	p := l.plugin
	if l.unresolved {
		for _, t := range l.outputs {
			t.bad = true
		}
		return
	}
	if p == nil {
		c.errorf(diag.InvalidArgument, "AddPluginV3 with a nil plugin")
		return
	}
	id := PluginID(p)
	if p.NbOutputs() < 1 {
		c.errorf(diag.InvalidNode, "%s declares %d outputs; a plugin needs at least one", id, p.NbOutputs())
		return
	}
	nb := len(l.inputs)
	for i := nb - l.nbShapeInputs; i < nb; i++ {
		if t := l.inputs[i]; (t.dtype != Int32 && t.dtype != Int64) || len(t.dims) > 1 {
			c.errorf(diag.TypeMismatch, "%s: shape input %q must be an Int32/Int64 vector or scalar, got %v %v", id, t.name, t.dtype, t.dims)
			return
		}
	}
	types := make([]DataType, nb)
	dims := make([]Dims, nb)
	for i, t := range l.inputs {
		types[i], dims[i] = t.dtype, t.dims.Clone()
	}
	outT, err := p.OutputTypes(types)
	if err != nil {
		c.errorf(codeOr(err, diag.InvalidNode), "%s rejects input types %v: %s", id, types, errText(err))
		return
	}
	outD, err := p.OutputDims(dims)
	if err != nil {
		c.errorf(codeOr(err, diag.InvalidNode), "%s rejects input dims %v: %s", id, dims, errText(err))
		return
	}
	if len(outT) != len(l.outputs) || len(outD) != len(l.outputs) {
		c.errorf(diag.InvalidNode, "%s declares %d outputs but returned %d types and %d dims", id, len(l.outputs), len(outT), len(outD))
		return
	}
	for i := range l.outputs {
		if !outT[i].Valid() {
			c.errorf(diag.InvalidNode, "%s: output %d has type %v, which is not a data type", id, i, outT[i])
			return
		}
		if err := checkInputDims(outD[i]); err != nil {
			c.errorf(diag.InvalidNode, "%s: output %d: %v", id, i, err)
			return
		}
		c.setOutput(i, outT[i], outD[i])
	}
}

// codeOr is err's diag code (a plugin may return diag.ShapeMismatch or
// diag.TypeMismatch errors), or def when it has none.
func codeOr(err error, def diag.Code) diag.Code {
	if c := diag.CodeOf(err); c != 0 {
		return c
	}
	return def
}

// errText is err's message without the code and location prefix when err
// is a *diag.Error, whose code the caller reports on its own error.
func errText(err error) string {
	if e, ok := err.(*diag.Error); ok {
		if e.Err != nil {
			return e.Msg + ": " + e.Err.Error()
		}
		return e.Msg
	}
	return err.Error()
}
