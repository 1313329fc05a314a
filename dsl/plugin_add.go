package dsl

import (
	"fmt"
	"sync/atomic"

	"github.com/trtc/trtc/diag"
)

// PluginResolver makes a plugin from its name, version, namespace and
// attribute values: the plugin registry's lookup and create. An empty
// version means the highest registered one; an empty namespace means the
// empty namespace, or the only namespace where name is registered.
type PluginResolver func(name, version, namespace string, attrs map[string]any) (Plugin, error)

// The plugins package imports dsl (plugins make dsl.Plugin values), so dsl
// cannot import it; instead the registry installs itself here in its init,
// the way image formats and database drivers register with their
// consumers. Any program that defines or imports a plugin links the
// plugins package, so AddPlugin finds the registry.
var pluginResolver atomic.Pointer[PluginResolver]

// SetPluginResolver installs the function AddPlugin resolves plugin names
// with. The plugins package calls it in its init; programs do not need to.
// Tests may install their own and restore the previous one, which it
// returns.
func SetPluginResolver(r PluginResolver) (previous PluginResolver) {
	var old *PluginResolver
	if r == nil {
		old = pluginResolver.Swap(nil)
	} else {
		old = pluginResolver.Swap(&r)
	}
	if old == nil {
		return nil
	}
	return *old
}

// AddPlugin adds a layer running the registered plugin called name,
// configured by attrs (TensorRT: getPluginRegistry()->getCreator(name,
// version, namespace)->createPlugin(name, fields) followed by
// addPluginV3). Every input is a data input. The attributes
// "plugin_version" and "plugin_namespace" (strings) select a version and
// namespace, as in ONNX models; without them the highest version is used,
// in the empty namespace or the only namespace registering name.
//
// An unknown plugin or attributes the plugin rejects are recorded at the
// caller's file:line (Err reports them); the layer then has one output
// that downstream layers ignore, so the mistake is reported once.
func (n *Network) AddPlugin(name string, inputs []*Tensor, attrs map[string]any) *PluginLayer {
	p, err := resolvePlugin(name, attrs)
	if err == nil {
		return n.AddPluginV3(inputs, nil, p)
	}
	l := &PluginLayer{unresolved: true}
	n.addLayer(l, LayerPlugin, 1, len(inputs), inputs...)
	code := diag.CodeOf(err)
	if code == 0 {
		code = diag.InvalidArgument
	}
	n.callErrs = append(n.callErrs, &diag.Error{Code: code, Index: -1, Loc: l.loc, Layer: l.name, Op: LayerPlugin.String(),
		Msg: fmt.Sprintf("AddPlugin(%q): %s", name, errText(err))})
	return l
}

func resolvePlugin(name string, attrs map[string]any) (Plugin, error) {
	rest := make(map[string]any, len(attrs))
	var version, namespace string
	for k, v := range attrs {
		switch k {
		case "plugin_version", "plugin_namespace":
			s, ok := v.(string)
			if !ok {
				return nil, diag.Errorf(diag.UnsupportedAttr, "attribute %q selects the plugin and must be a string, got %T", k, v)
			}
			if k == "plugin_version" {
				version = s
			} else {
				namespace = s
			}
		default:
			rest[k] = v
		}
	}
	r := pluginResolver.Load()
	if r == nil {
		return nil, diag.Errorf(diag.UnsupportedNode, "no plugin registry is linked into this program: import github.com/trtc/trtc/plugins, or the package that defines the plugin")
	}
	p, err := (*r)(name, version, namespace, rest)
	if err == nil && p == nil {
		err = diag.Errorf(diag.Internal, "the plugin resolver returned neither a plugin nor an error")
	}
	return p, err
}
