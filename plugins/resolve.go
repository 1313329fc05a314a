package plugins

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// The registry is what dsl.Network.AddPlugin resolves names with. dsl
// cannot import this package (this package imports dsl), so it installs
// itself: any program that registers or defines a plugin links it.
func init() { dsl.SetPluginResolver(Resolve) }

// Resolve finds a registered plugin and creates it from attrs: Lookup by
// name, version (empty: the highest) and namespace, where an empty
// namespace falls back to the only namespace that registers name. The
// error says what is registered when nothing matches.
func Resolve(name, version, namespace string, attrs map[string]any) (dsl.Plugin, error) {
	c, ok := Lookup(name, version, namespace)
	if !ok && namespace == "" {
		c, ok = onlyNamespace(name, version)
	}
	if !ok {
		return nil, notRegistered(name, version, namespace)
	}
	p, err := c.Create(attrs)
	if err != nil {
		if diag.CodeOf(err) != 0 {
			return nil, err
		}
		return nil, diag.Wrap(diag.UnsupportedAttr, err, "plugin %q version %q namespace %q", c.Name(), c.Version(), c.Namespace())
	}
	if p == nil {
		return nil, diag.Errorf(diag.Internal, "plugin %q version %q namespace %q: Create returned no plugin and no error", c.Name(), c.Version(), c.Namespace())
	}
	return p, nil
}

// onlyNamespace looks name up in the one namespace that registers it.
func onlyNamespace(name, version string) (Creator, bool) {
	var ns []string
	for _, k := range Registered() {
		if k.Name == name && (len(ns) == 0 || ns[len(ns)-1] != k.Namespace) {
			ns = append(ns, k.Namespace)
		}
	}
	if len(ns) != 1 {
		return nil, false
	}
	return Lookup(name, version, ns[0])
}

func notRegistered(name, version, namespace string) error {
	var same []string
	for _, k := range Registered() {
		if k.Name == name {
			same = append(same, fmt.Sprintf("version %q namespace %q", k.Version, k.Namespace))
		}
	}
	want := fmt.Sprintf("plugin %q", name)
	if version != "" {
		want += fmt.Sprintf(" version %q", version)
	}
	if namespace != "" {
		want += fmt.Sprintf(" namespace %q", namespace)
	}
	switch {
	case len(same) > 1 && namespace == "":
		return diag.Errorf(diag.UnsupportedNode, "%s is registered in several namespaces (%s): set plugin_namespace", want, strings.Join(same, "; "))
	case len(same) > 0:
		return diag.Errorf(diag.UnsupportedNode, "no %s is registered; this binary has %s", want, strings.Join(same, "; "))
	}
	return diag.Errorf(diag.UnsupportedNode, "no %s is registered in this binary (%d plugins are; import the package that defines it)", want, len(Registered()))
}
