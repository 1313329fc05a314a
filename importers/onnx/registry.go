package onnx

import (
	"fmt"
	"runtime"
	"sort"

	"github.com/trtc/trtc/dsl"
)

// importFunc adds the layers for one node and returns one tensor per node
// output (nil where an optional output is not produced).
type importFunc func(c *nodeCtx) ([]*dsl.Tensor, error)

// OpInfo documents an importer for docs/operators.md.
type OpInfo struct {
	Domain       string // "" for the default ai.onnx domain
	Op           string
	Since        int64  // the first opset version this importer handles
	Types        string // the input types it accepts, e.g. "float32, float16, int32"
	Restrictions string // what it does not support, "" when nothing
}

type opImporter struct {
	info OpInfo
	fn   importFunc
	site string
}

type opKey struct{ domain, op string }

// importers maps (domain, op) to its importers sorted by Since.
var importers = map[opKey][]opImporter{}

// register adds an importer; called from init. Registering the same
// (domain, op, since) twice panics, like a duplicate flag.
func register(info OpInfo, fn importFunc) {
	_, file, line, _ := runtime.Caller(1)
	site := fmt.Sprintf("%s:%d", file, line)
	k := opKey{info.Domain, info.Op}
	for _, e := range importers[k] {
		if e.info.Since == info.Since {
			panic(fmt.Sprintf("onnx: importer for %s (domain %q, since %d) registered twice: %s and %s", info.Op, info.Domain, info.Since, e.site, site))
		}
	}
	list := append(importers[k], opImporter{info: info, fn: fn, site: site})
	sort.Slice(list, func(i, j int) bool { return list[i].info.Since < list[j].info.Since })
	importers[k] = list
}

// lookup returns the importer for op at the given opset version: the one
// with the highest Since not above it.
func lookup(domain, op string, opset int64) (opImporter, bool) {
	list := importers[opKey{domain, op}]
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].info.Since <= opset {
			return list[i], true
		}
	}
	return opImporter{}, false
}

// SupportedOps lists every importer, sorted by domain, op and version,
// for docs/operators.md and `trtc ops`.
func SupportedOps() []OpInfo {
	var out []OpInfo
	for _, list := range importers {
		for _, e := range list {
			out = append(out, e.info)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Domain != b.Domain {
			return a.Domain < b.Domain
		}
		if a.Op != b.Op {
			return a.Op < b.Op
		}
		return a.Since < b.Since
	})
	return out
}
