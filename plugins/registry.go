package plugins

import (
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/trtc/trtc/dsl"
)

// Creator makes plugin instances from attribute values (TensorRT's
// IPluginCreatorV3One).
type Creator interface {
	// Name, Version and Namespace identify the plugin. The ONNX importer
	// matches Name against a node's op_type, and Version and Namespace
	// against its plugin_version and plugin_namespace attributes.
	Name() string
	Version() string
	Namespace() string
	// Create returns a plugin configured by attrs (ONNX attributes:
	// int64, float32, string, []int64, []float32, []string or
	// *tensor.Tensor values). It returns an error naming any attribute it
	// does not accept or whose value is wrong.
	Create(attrs map[string]any) (dsl.Plugin, error)
}

// Key is the identity of a registered plugin.
type Key struct{ Name, Version, Namespace string }

func (k Key) String() string {
	return fmt.Sprintf("%s version %q namespace %q", k.Name, k.Version, k.Namespace)
}

type entry struct {
	creator Creator
	site    string // file:line of the Register call
}

var (
	mu       sync.RWMutex
	registry = map[Key]entry{}
)

// Register adds a creator. Registering the same name, version and
// namespace twice panics with both call sites: it is a programming error
// found at init, like a duplicate flag.
func Register(c Creator) {
	_, file, line, _ := runtime.Caller(1)
	register(c, fmt.Sprintf("%s:%d", file, line))
}

func register(c Creator, site string) {
	k := Key{c.Name(), c.Version(), c.Namespace()}
	mu.Lock()
	defer mu.Unlock()
	if old, dup := registry[k]; dup {
		panic(fmt.Sprintf("plugins: %v registered twice: at %s and at %s", k, old.site, site))
	}
	registry[k] = entry{creator: c, site: site}
}

// Lookup finds a creator. An empty version matches the highest registered
// version of that name and namespace (versions compare as strings of
// equal length first, then lexically, so "10" is above "9").
func Lookup(name, version, namespace string) (Creator, bool) {
	mu.RLock()
	defer mu.RUnlock()
	if version != "" {
		e, ok := registry[Key{name, version, namespace}]
		return e.creator, ok
	}
	var best *Key
	for k := range registry {
		if k.Name != name || k.Namespace != namespace {
			continue
		}
		if best == nil || versionLess(best.Version, k.Version) {
			kk := k
			best = &kk
		}
	}
	if best == nil {
		return nil, false
	}
	return registry[*best].creator, true
}

func versionLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Registered lists every registered plugin, sorted.
func Registered() []Key {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Key, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return versionLess(a.Version, b.Version)
	})
	return out
}
