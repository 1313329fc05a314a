//go:build tensorrt

package tensorrt

/*
#include <stdlib.h>
#include <string.h>
#include "shim.h"
*/
import "C"

import (
	"bytes"
	"context"
	"encoding/gob"
	"log/slog"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/plugins"
)

// PluginTensor is one plugin input or output during enqueue: a device
// pointer and its dims.
type PluginTensor struct {
	Ptr  uintptr
	Dims []int64
	Type dsl.DataType
}

// PluginLauncher runs a plugin's CUDA kernel on a stream. The plugins
// issue supplies it (an NVRTC-compiled kernel launched through
// internal/cuda); until then enqueue fails with a logged error.
type PluginLauncher func(p dsl.Plugin, in, out []PluginTensor, workspace, stream uintptr) error

var launcher atomic.Pointer[PluginLauncher]

// SetPluginLauncher installs the function plugin enqueue calls.
func SetPluginLauncher(f PluginLauncher) { launcher.Store(&f) }

// A plugin instance known to TensorRT, by integer id.
type pluginInstance struct {
	p       dsl.Plugin
	inTypes []dsl.DataType // the network's input types (nil for deserialized instances)
}

var (
	pluginMu   sync.Mutex
	pluginTab  = map[int64]*pluginInstance{}
	pluginNext int64
	creators   = map[plugins.Key]bool{}
)

func newPlugin(pi *pluginInstance) int64 {
	pluginMu.Lock()
	defer pluginMu.Unlock()
	pluginNext++
	pluginTab[pluginNext] = pi
	return pluginNext
}

func getPlugin(id C.int64_t) *pluginInstance {
	pluginMu.Lock()
	defer pluginMu.Unlock()
	return pluginTab[int64(id)]
}

func releasePlugin(id int64) {
	pluginMu.Lock()
	delete(pluginTab, id)
	pluginMu.Unlock()
}

// registerPlugins registers one IPluginCreatorV3One per plugin key the
// network uses, so TensorRT can recreate the plugins from a plan.
func registerPlugins(n *dsl.Network) error {
	for _, l := range n.Layers() {
		pl, ok := l.(*dsl.PluginLayer)
		if !ok {
			continue
		}
		p := pl.Plugin()
		k := plugins.Key{Name: p.PluginName(), Version: p.PluginVersion(), Namespace: p.PluginNamespace()}
		pluginMu.Lock()
		done := creators[k]
		pluginMu.Unlock()
		if done {
			continue
		}
		name, ver, ns := C.CString(k.Name), C.CString(k.Version), C.CString(k.Namespace)
		rc := C.trtc_register_plugin_creator(name, ver, ns)
		C.free(unsafe.Pointer(name))
		C.free(unsafe.Pointer(ver))
		C.free(unsafe.Pointer(ns))
		if rc != 0 {
			return layerErr(l, diag.UnsupportedNode, "TensorRT's plugin registry refused a creator for plugin %s", k)
		}
		pluginMu.Lock()
		creators[k] = true
		pluginMu.Unlock()
	}
	return nil
}

func (lw *lowerer) plugin(l *dsl.PluginLayer) C.trtc_l {
	p := l.Plugin()
	nData := l.NbInputs() - l.NbShapeInputs()
	pi := &pluginInstance{p: p}
	for i := 0; i < nData; i++ {
		pi.inTypes = append(pi.inTypes, l.Input(i).Type())
	}
	id := newPlugin(pi)
	lw.pluginIDs[id] = true
	ins := lw.list(inputs(l))
	data, shape := ins[:nData], ins[nData:]
	return C.trtc_add_plugin(lw.net, tp(data), C.int(len(data)), tp(shape), C.int(len(shape)), C.int64_t(id),
		lw.cstr(p.PluginName()), lw.cstr(p.PluginVersion()), lw.cstr(p.PluginNamespace()))
}

//export trtcGoPluginNbOutputs
func trtcGoPluginNbOutputs(id C.int64_t) C.int32_t {
	if pi := getPlugin(id); pi != nil {
		return C.int32_t(pi.p.NbOutputs())
	}
	return 0
}

//export trtcGoPluginTypes
func trtcGoPluginTypes(id C.int64_t, out *C.int32_t, nout C.int32_t, in *C.int32_t, nin C.int32_t) C.int32_t {
	pi := getPlugin(id)
	if pi == nil {
		return -1
	}
	ins := unsafe.Slice(in, int(nin))
	types := make([]dsl.DataType, len(ins))
	for i, t := range ins {
		types[i] = dsl.DataType(t)
	}
	got, err := pi.p.OutputTypes(types)
	if err != nil || len(got) != int(nout) {
		slog.Error("plugin output types", "plugin", pi.p.PluginName(), "err", err)
		return -1
	}
	outs := unsafe.Slice(out, int(nout))
	for i, t := range got {
		outs[i] = C.int32_t(t)
	}
	return 0
}

// trtcGoPluginShapes answers getOutputShapes symbolically. The Go plugin
// gives dims with -1 for what is not known at build time; to learn which
// input dim a dynamic output dim follows, it is asked again with each
// dynamic input dim set to a distinct probe value, and an output dim equal
// to a probe is that input dim. A dynamic output dim that follows no
// single input dim (data-dependent or computed) is an error for now.
//
//export trtcGoPluginShapes
func trtcGoPluginShapes(id C.int64_t, inDims *C.int64_t, inRanks *C.int32_t, nin C.int32_t, spec *C.int32_t, capacity C.int32_t) C.int32_t {
	pi := getPlugin(id)
	if pi == nil {
		return -1
	}
	const maxDims = 8
	flat := unsafe.Slice(inDims, int(nin)*maxDims)
	ranks := unsafe.Slice(inRanks, int(nin))
	in := make([]dsl.Dims, nin)
	probed := make([]dsl.Dims, nin)
	probe := map[int64][2]int{}
	next := int64(1 << 20)
	for i := range in {
		for j := 0; j < int(ranks[i]); j++ {
			v := int64(flat[i*maxDims+j])
			in[i] = append(in[i], v)
			if v < 0 {
				next += 7919
				probe[next] = [2]int{i, j}
				v = next
			}
			probed[i] = append(probed[i], v)
		}
	}
	outs, err := pi.p.OutputDims(in)
	if err != nil {
		slog.Error("plugin output dims", "plugin", pi.p.PluginName(), "err", err)
		return -1
	}
	var pouts []dsl.Dims
	if len(probe) > 0 {
		if pouts, err = pi.p.OutputDims(probed); err != nil {
			pouts = nil
		}
	}
	sp := unsafe.Slice(spec, int(capacity))
	k := 0
	for o, d := range outs {
		if k+1+3*len(d) > len(sp) {
			return -1
		}
		sp[k] = C.int32_t(len(d))
		k++
		for j, v := range d {
			switch {
			case v >= 0:
				sp[k], sp[k+1], sp[k+2] = 0, C.int32_t(v), 0
			case pouts != nil && o < len(pouts) && j < len(pouts[o]):
				src, ok := probe[pouts[o][j]]
				if !ok {
					slog.Error("plugin output dim follows no input dim", "plugin", pi.p.PluginName(), "output", o, "dim", j)
					return -1
				}
				sp[k], sp[k+1], sp[k+2] = 1, C.int32_t(src[0]), C.int32_t(src[1])
			default:
				return -1
			}
			k += 3
		}
	}
	return 0
}

//export trtcGoPluginFormat
func trtcGoPluginFormat(id C.int64_t, pos C.int32_t, types *C.int32_t, n C.int32_t) C.int32_t {
	pi := getPlugin(id)
	if pi == nil {
		return 0
	}
	ts := unsafe.Slice(types, int(n))
	p := int(pos)
	if pi.inTypes == nil {
		return 1
	}
	if p < len(pi.inTypes) {
		return b2i32(dsl.DataType(ts[p]) == pi.inTypes[p])
	}
	want, err := pi.p.OutputTypes(pi.inTypes)
	if err != nil || p-len(pi.inTypes) >= len(want) {
		return 0
	}
	return b2i32(dsl.DataType(ts[p]) == want[p-len(pi.inTypes)])
}

func b2i32(b bool) C.int32_t {
	if b {
		return 1
	}
	return 0
}

//export trtcGoPluginEnqueue
func trtcGoPluginEnqueue(id C.int64_t, nin, nout C.int32_t, in, out *C.uintptr_t, inDims *C.int64_t, inRanks *C.int32_t, outDims *C.int64_t, outRanks *C.int32_t, workspace, stream C.uintptr_t) C.int32_t {
	pi := getPlugin(id)
	f := launcher.Load()
	if pi == nil || f == nil {
		slog.Error("TensorRT plugin enqueue: no CUDA kernel launcher is installed (tensorrt.SetPluginLauncher)", "component", "tensorrt")
		return 1
	}
	tensors := func(ptrs *C.uintptr_t, dims *C.int64_t, ranks *C.int32_t, n int) []PluginTensor {
		ps, rs, ds := unsafe.Slice(ptrs, n), unsafe.Slice(ranks, n), unsafe.Slice(dims, n*8)
		out := make([]PluginTensor, n)
		for i := range out {
			out[i].Ptr = uintptr(ps[i])
			for j := 0; j < int(rs[i]); j++ {
				out[i].Dims = append(out[i].Dims, int64(ds[i*8+j]))
			}
		}
		return out
	}
	if err := (*f)(pi.p, tensors(in, inDims, inRanks, int(nin)), tensors(out, outDims, outRanks, int(nout)), uintptr(workspace), uintptr(stream)); err != nil {
		slog.Log(context.Background(), slog.LevelError, "TensorRT plugin enqueue failed", "plugin", pi.p.PluginName(), "err", err)
		return 1
	}
	return 0
}

//export trtcGoPluginClone
func trtcGoPluginClone(id C.int64_t) C.int64_t {
	pi := getPlugin(id)
	if pi == nil {
		return -1
	}
	c := *pi
	return C.int64_t(newPlugin(&c))
}

//export trtcGoPluginRelease
func trtcGoPluginRelease(id C.int64_t) { releasePlugin(int64(id)) }

// Attributes cross into the plan gob-encoded (a map of basic types and
// slices of them, which gob knows without registration).
//
//export trtcGoPluginSerialize
func trtcGoPluginSerialize(id C.int64_t, data *unsafe.Pointer, size *C.int64_t) C.int32_t {
	pi := getPlugin(id)
	if pi == nil {
		return -1
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(pi.p.Attributes()); err != nil {
		slog.Error("plugin attributes", "plugin", pi.p.PluginName(), "err", err)
		return -1
	}
	*data = C.CBytes(buf.Bytes())
	*size = C.int64_t(buf.Len())
	return 0
}

//export trtcGoPluginCreate
func trtcGoPluginCreate(name, version, ns *C.char, data unsafe.Pointer, size C.int64_t) C.int64_t {
	c, ok := plugins.Lookup(C.GoString(name), C.GoString(version), C.GoString(ns))
	if !ok {
		slog.Error("TensorRT asked for a plugin this binary does not register", "plugin", C.GoString(name), "version", C.GoString(version), "namespace", C.GoString(ns))
		return -1
	}
	attrs := map[string]any{}
	if size > 0 {
		if err := gob.NewDecoder(bytes.NewReader(C.GoBytes(data, C.int(size)))).Decode(&attrs); err != nil {
			slog.Error("plugin attributes in the plan", "plugin", C.GoString(name), "err", err)
			return -1
		}
	}
	p, err := c.Create(attrs)
	if err != nil {
		slog.Error("plugin create", "plugin", C.GoString(name), "err", err)
		return -1
	}
	return C.int64_t(newPlugin(&pluginInstance{p: p}))
}
