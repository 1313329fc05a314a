package cpu

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"

	"golang.org/x/sys/cpu"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/target"
	"github.com/trtc/trtc/plugins"
	"github.com/trtc/trtc/tensor"
)

// The CPU target's engine sections: the network, encoded by dsl, and its
// weights as raw bytes (each at a 256-byte aligned offset, so they could be
// used in place) with an index of their types and shapes.
const (
	sectionNetwork      = "network"
	sectionWeights      = "weights"
	sectionWeightsIndex = "weights.index"
	metaEncoding        = "cpu.network_encoding"
	weightAlign         = 256
)

func init() { target.Register(cpuTarget{}) }

// cpuTarget is the CPU engine as a target: its engines run anywhere.
type cpuTarget struct{}

func (cpuTarget) Name() string { return "cpu" }

// Probe always succeeds. The device architecture is left empty: a CPU
// engine is portable (the same Go code runs it on any architecture).
func (cpuTarget) Probe() (target.Device, error) {
	return target.Device{Name: fmt.Sprintf("%d CPU cores, %s%s", runtime.NumCPU(), runtime.GOARCH, simdName())}, nil
}

func simdName() string {
	switch {
	case cpu.X86.HasAVX512F:
		return " with AVX-512"
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return " with AVX2"
	}
	return ""
}

// Lower encodes the graph's network. Fusions need nothing here: the CPU
// engine runs a fusion's layers one by one, which is what makes it the
// oracle for the targets that fuse.
func (cpuTarget) Lower(g *ir.Graph, b *target.Build) error {
	if _, err := New(g.Net); err != nil {
		return err
	}
	return EncodeSections(g.Net, b)
}

// EncodeSections adds the network and its weights to b as the sections
// DecodeSections reads back: how the CPU target stores its engine, and how
// GPU targets keep the network for host-side shape resolution and for the
// layers they run on the host.
func EncodeSections(network *dsl.Network, b *target.Build) error {
	var weights []byte
	var index []byte
	n := uint64(0)
	net, err := dsl.EncodeNetwork(network, dsl.EncodeOptions{PutWeights: func(t *tensor.Tensor) (uint64, error) {
		off := alignUp(uint64(len(weights)))
		weights = append(weights, make([]byte, off-uint64(len(weights)))...)
		weights = append(weights, t.Bytes()...)
		index = binary.AppendUvarint(index, uint64(t.DType()))
		index = binary.AppendUvarint(index, uint64(t.Rank()))
		for _, d := range t.Shape() {
			index = binary.AppendUvarint(index, uint64(d))
		}
		index = binary.AppendUvarint(index, off)
		index = binary.AppendUvarint(index, uint64(len(t.Bytes())))
		n++
		return n - 1, nil
	}})
	if err != nil {
		return err
	}
	b.AddSection(sectionNetwork, "dsl-network", net)
	b.AddSection(sectionWeightsIndex, "weights-index", binary.AppendUvarint(nil, n))
	b.Sections[len(b.Sections)-1].Data = append(b.Sections[len(b.Sections)-1].Data, index...)
	b.AddSection(sectionWeights, "weights", weights)
	if b.Metadata == nil {
		b.Metadata = map[string]string{}
	}
	b.Metadata[metaEncoding] = dsl.EncodingVersion()
	for _, l := range network.Layers() {
		if l.Type() == dsl.LayerPlugin {
			b.Warnings = append(b.Warnings, fmt.Sprintf("layer %q runs plugin %s; loading the engine needs a binary with the plugin registered", l.Name(), dsl.PluginID(l.(*dsl.PluginLayer).Plugin())))
		}
	}
	return nil
}

func alignUp(n uint64) uint64 { return (n + weightAlign - 1) &^ (weightAlign - 1) }

// Load decodes the network, with weights that point into the weights
// section (no copy), and plugins recreated from the registry.
func (cpuTarget) Load(s target.Sections) (target.Executable, error) {
	net, err := DecodeSections(s)
	if err != nil {
		return nil, err
	}
	e, err := New(net)
	if err != nil {
		return nil, err
	}
	return executable{e}, nil
}

// DecodeSections reads the network EncodeSections wrote, with weights that
// point into the weights section (no copy) and plugins recreated from the
// registry.
func DecodeSections(s target.Sections) (*dsl.Network, error) {
	if v := s.Metadata()[metaEncoding]; v != dsl.EncodingVersion() {
		return nil, diag.Errorf(diag.EngineIncompatible, "%s: the network was encoded by a trtc whose layer schema is %q; this trtc's is %q: rebuild the engine with this trtc", s.Name(), v, dsl.EncodingVersion())
	}
	netBytes, err := s.Section(sectionNetwork)
	if err != nil {
		return nil, err
	}
	idx, err := s.Section(sectionWeightsIndex)
	if err != nil {
		return nil, err
	}
	data, err := s.Section(sectionWeights)
	if err != nil {
		return nil, err
	}
	weights, err := readWeightsIndex(s.Name(), idx, data)
	if err != nil {
		return nil, err
	}
	net, err := dsl.DecodeNetwork(netBytes, dsl.DecodeOptions{
		GetWeights: func(id uint64) (*tensor.Tensor, error) {
			if id >= uint64(len(weights)) {
				return nil, diag.Errorf(diag.EngineCorrupt, "%s: weights %d do not exist (the index has %d)", s.Name(), id, len(weights))
			}
			return weights[id], nil
		},
		NewPlugin: newPlugin,
	})
	if err != nil {
		return nil, err
	}
	return net, nil
}

// newPlugin recreates a plugin layer's plugin from the registry.
func newPlugin(name, version, namespace string, attrs map[string]any) (dsl.Plugin, error) {
	c, ok := plugins.Lookup(name, version, namespace)
	if !ok {
		return nil, diag.Errorf(diag.EngineIncompatible, "the engine uses plugin %q version %q namespace %q, which is not registered in this binary: import the package that registers it (see plugins)", name, version, namespace)
	}
	return c.Create(attrs)
}

// readWeightsIndex decodes the index: a count, then per weights tensor its
// type, rank, dims, offset and length in the weights section.
func readWeightsIndex(file string, idx, data []byte) ([]*tensor.Tensor, error) {
	bad := func(format string, args ...any) error {
		return diag.Errorf(diag.EngineCorrupt, "%s: weights index: %s", file, fmt.Sprintf(format, args...))
	}
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(idx)
		if n <= 0 {
			return 0, false
		}
		idx = idx[n:]
		return v, true
	}
	count, ok := next()
	if !ok || count > uint64(len(idx)) {
		return nil, bad("bad count")
	}
	out := make([]*tensor.Tensor, 0, count)
	for i := uint64(0); i < count; i++ {
		dt, ok1 := next()
		rank, ok2 := next()
		if !ok1 || !ok2 || rank > 64 {
			return nil, bad("entry %d: bad type or rank", i)
		}
		shape := make([]int64, rank)
		for j := range shape {
			d, ok := next()
			if !ok || d > 1<<40 {
				return nil, bad("entry %d: bad dim %d", i, j)
			}
			shape[j] = int64(d)
		}
		off, ok1 := next()
		n, ok2 := next()
		if !ok1 || !ok2 || off > uint64(len(data)) || n > uint64(len(data))-off {
			return nil, bad("entry %d: bytes [%d, +%d) lie outside the %d-byte weights section", i, off, n, len(data))
		}
		t, err := tensor.FromBytes(tensor.DataType(dt), shape, data[off:off+n:off+n])
		if err != nil {
			return nil, bad("entry %d: %v", i, err)
		}
		out = append(out, t)
	}
	if len(idx) != 0 {
		return nil, bad("%d bytes after the last entry", len(idx))
	}
	return out, nil
}

// executable is a loaded CPU engine; its contexts share it (Engine.Run is
// safe for concurrent use).
type executable struct{ e *Engine }

func (x executable) NewContext() (target.Context, error) { return cpuContext(x), nil }
func (x executable) Close() error                        { return nil }

type cpuContext struct{ e *Engine }

func (c cpuContext) Execute(ctx context.Context, in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	return c.e.Run(ctx, in)
}
func (c cpuContext) Close() error { return nil }
