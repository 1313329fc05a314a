package dsl_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/dsltest"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

var decOpts = dsl.DecodeOptions{NewPlugin: dsltest.NewPlugin}

func mustEncode(t testing.TB, net *dsl.Network, opt dsl.EncodeOptions) []byte {
	t.Helper()
	b, err := dsl.EncodeNetwork(net, opt)
	if err != nil {
		t.Fatalf("EncodeNetwork: %v", err)
	}
	return b
}

// randInputs returns a value for every network input: Float32 uniform in
// [-1, 1) and never zero, Bool at random.
func randInputs(t testing.TB, rng *rand.Rand, net *dsl.Network) map[string]*tensor.Tensor {
	t.Helper()
	in := map[string]*tensor.Tensor{}
	for _, x := range net.Inputs() {
		n := x.Dims().Volume()
		vals := make([]float64, n)
		for i := range vals {
			for vals[i] == 0 {
				vals[i] = rng.Float64()*2 - 1
			}
			if x.Type() == dsl.Bool {
				vals[i] = float64(rng.IntN(2))
			}
		}
		v, err := tensor.FromFloat64s(x.Type(), x.Dims(), vals)
		if err != nil {
			t.Fatal(err)
		}
		in[x.Name()] = v
	}
	return in
}

func sameOutputs(t *testing.T, want, got map[string]*tensor.Tensor) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("output %q missing", name)
		case g.DType() != w.DType() || !slices.Equal(g.Shape(), w.Shape()) || !bytes.Equal(g.Bytes(), w.Bytes()):
			t.Errorf("output %q: %v %v differs from the original's %v %v", name, g.DType(), g.Shape(), w.DType(), w.Shape())
		}
	}
}

func describe(net *dsl.Network) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", net.Name())
	for _, x := range net.Inputs() {
		fmt.Fprintf(&b, "in %v\n", x)
	}
	for _, l := range net.TopoLayers() {
		fmt.Fprintf(&b, "%v %q @%s in:", l.Type(), l.Name(), l.Location())
		for i := 0; i < l.NbInputs(); i++ {
			if x := l.Input(i); x != nil {
				fmt.Fprintf(&b, " %s", x.Name())
			} else {
				b.WriteString(" -")
			}
		}
		b.WriteString(" out:")
		for i := 0; i < l.NbOutputs(); i++ {
			fmt.Fprintf(&b, " %v", l.Output(i))
		}
		b.WriteString("\n")
	}
	for _, x := range net.Outputs() {
		fmt.Fprintf(&b, "out %v\n", x)
	}
	for _, r := range net.Regions() {
		fmt.Fprintf(&b, "region %q boundary %d body %d\n", r.Name(), len(r.Boundary), len(r.Body))
	}
	return b.String()
}

// TestEncodeRoundTrip encodes each builder's network, decodes it and
// checks that the decoded network is the same (same description, and the
// same bytes when encoded again) and computes the same outputs bit for bit.
func TestEncodeRoundTrip(t *testing.T) {
	covered := map[dsl.LayerType]bool{}
	names := make([]string, 0, len(dsltest.Networks()))
	for name := range dsltest.Networks() {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			net := dsltest.Networks()[name](rng)
			if err := net.Err(); err != nil {
				t.Fatalf("builder: %v", err)
			}
			for _, l := range net.Layers() {
				covered[l.Type()] = true
			}
			for _, opt := range []struct {
				name string
				enc  dsl.EncodeOptions
				dec  dsl.DecodeOptions
			}{{"embedded", dsl.EncodeOptions{}, decOpts}, externalWeights(t)} {
				b := mustEncode(t, net, opt.enc)
				got, err := dsl.DecodeNetwork(b, opt.dec)
				if err != nil {
					t.Fatalf("%s: DecodeNetwork: %v", opt.name, err)
				}
				if d, w := describe(got), describe(net); d != w {
					t.Errorf("%s: decoded network\n%s\nwant\n%s", opt.name, d, w)
				}
				if b2 := mustEncode(t, got, opt.enc); !bytes.Equal(b, b2) {
					t.Errorf("%s: re-encoding gives other bytes (%d vs %d)", opt.name, len(b2), len(b))
				}
				in := randInputs(t, rng, net)
				want, err := cpu.Run(net, in)
				if err != nil {
					t.Fatalf("running the original: %v", err)
				}
				have, err := cpu.Run(got, in)
				if err != nil {
					t.Fatalf("%s: running the decoded network: %v", opt.name, err)
				}
				sameOutputs(t, want, have)
			}
		})
	}
	for _, k := range dsl.AllLayerTypes() {
		if !covered[k] {
			t.Errorf("no round-trip network has a %v layer", k)
		}
	}
}

// externalWeights stores weights in a map, checking each tensor is put once.
func externalWeights(t *testing.T) struct {
	name string
	enc  dsl.EncodeOptions
	dec  dsl.DecodeOptions
} {
	store := map[uint64]*tensor.Tensor{}
	ids := map[*tensor.Tensor]uint64{}
	enc := dsl.EncodeOptions{PutWeights: func(w *tensor.Tensor) (uint64, error) {
		// The decoded network shares the stored tensors, so encoding it
		// again puts the same tensors and gets the same ids.
		if id, ok := ids[w]; ok {
			return id, nil
		}
		id := uint64(len(store))*3 + 1
		store[id], ids[w] = w, id
		return id, nil
	}}
	dec := decOpts
	dec.GetWeights = func(id uint64) (*tensor.Tensor, error) {
		w, ok := store[id]
		if !ok {
			return nil, fmt.Errorf("no weights %d", id)
		}
		return w, nil
	}
	return struct {
		name string
		enc  dsl.EncodeOptions
		dec  dsl.DecodeOptions
	}{"external", enc, dec}
}

// TestEncodeSharedWeights checks that weights shared by two layers are
// stored once and shared again after decoding, and that PutWeights is
// called once for them.
func TestEncodeSharedWeights(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2})
	w := dsl.Float32Weights(1, 2)
	a := n.AddElementWise(x, n.AddConstant(dsl.Dims{2}, w).Output(0), dsl.ElementWiseSum)
	b := n.AddElementWise(a.Output(0), n.AddConstant(dsl.Dims{2}, w).Output(0), dsl.ElementWiseSum)
	n.MarkOutput(b.Output(0))
	calls := 0
	enc, err := dsl.EncodeNetwork(n, dsl.EncodeOptions{PutWeights: func(*tensor.Tensor) (uint64, error) { calls++; return 42, nil }})
	if err != nil || calls != 1 {
		t.Fatalf("PutWeights called %d times (err %v), want once", calls, err)
	}
	if _, err := dsl.DecodeNetwork(enc, dsl.DecodeOptions{}); err == nil || !strings.Contains(err.Error(), "GetWeights is nil") {
		t.Errorf("decoding external weights without GetWeights: %v", err)
	}
	wrong, _ := tensor.FromFloat32([]int64{3}, []float32{1, 2, 3})
	if _, err := dsl.DecodeNetwork(enc, dsl.DecodeOptions{GetWeights: func(uint64) (*tensor.Tensor, error) { return wrong, nil }}); !errors.Is(err, diag.EngineCorrupt) || !strings.Contains(err.Error(), "records float32 [2]") {
		t.Errorf("GetWeights with a tensor of another shape: %v", err)
	}
	emb := mustEncode(t, n, dsl.EncodeOptions{})
	if c := bytes.Count(emb, w.Tensor().Bytes()); c != 1 {
		t.Errorf("shared weights embedded %d times, want once", c)
	}
	got, err := dsl.DecodeNetwork(emb, dsl.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := got.Layer(0).(*dsl.ConstantLayer)
	c2, _ := got.Layer(2).(*dsl.ConstantLayer)
	if c1 == nil || c2 == nil || c1.Weights().Tensor() != c2.Weights().Tensor() {
		t.Errorf("decoded constants do not share their weights: %v %v", got.Layer(0), got.Layer(2))
	}
}

// TestDecodePluginNeedsNewPlugin: a plugin layer decodes only with
// NewPlugin, and the error without it names the plugin.
func TestDecodePluginNeedsNewPlugin(t *testing.T) {
	b := mustEncode(t, dsltest.Networks()["plugin"](rand.New(rand.NewPCG(1, 2))), dsl.EncodeOptions{})
	_, err := dsl.DecodeNetwork(b, dsl.DecodeOptions{})
	if err == nil || !strings.Contains(err.Error(), `plugin "EncScale" version "1" namespace "trtc.test"`) ||
		!strings.Contains(err.Error(), "NewPlugin is nil") || !strings.Contains(err.Error(), `"scale by 1.5" (layer 0)`) {
		t.Errorf("decoding a plugin layer without NewPlugin: %v", err)
	}
	_, err = dsl.DecodeNetwork(b, dsl.DecodeOptions{NewPlugin: func(string, string, string, map[string]any) (dsl.Plugin, error) {
		return nil, errors.New("not registered")
	}})
	if !errors.Is(err, diag.UnsupportedNode) || !strings.Contains(err.Error(), "not registered") || !strings.Contains(err.Error(), "EncScale") {
		t.Errorf("decoding with a NewPlugin that fails: %v", err)
	}
	if _, err := dsl.DecodeNetwork(b, decOpts); err != nil {
		t.Errorf("decoding with NewPlugin: %v", err)
	}
}

// TestEncodeRefusals: networks with errors, nil networks and plugin
// attributes the encoding cannot hold.
func TestEncodeRefusals(t *testing.T) {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{2})
	n.MarkOutput(n.AddConcatenation([]*dsl.Tensor{x, n.AddInput("y", dsl.Float32, dsl.Dims{2, 2})}).Output(0))
	if _, err := dsl.EncodeNetwork(n, dsl.EncodeOptions{}); err == nil || err.Error() != n.Err().Error() {
		t.Errorf("encoding an invalid network: %v, want its Err %v", err, n.Err())
	}
	if _, err := dsl.EncodeNetwork(nil, dsl.EncodeOptions{}); !errors.Is(err, diag.InvalidArgument) {
		t.Errorf("encoding nil: %v", err)
	}
	p := dsltest.NewScalePlugin(1)
	p.Attributes()["odd"] = struct{}{}
	n = dsl.NewNetwork()
	n.MarkOutput(n.AddPluginV3([]*dsl.Tensor{n.AddInput("x", dsl.Float32, dsl.Dims{2})}, nil, p).Output(0))
	if _, err := dsl.EncodeNetwork(n, dsl.EncodeOptions{}); !errors.Is(err, diag.UnsupportedAttr) || !strings.Contains(err.Error(), `attribute "odd" has Go type struct {}`) {
		t.Errorf("encoding a plugin with an odd attribute: %v", err)
	}
	n = dsl.NewNetwork()
	n.MarkOutput(n.AddConstant(dsl.Dims{1}, dsl.Float32Weights(1)).Output(0))
	if _, err := dsl.EncodeNetwork(n, dsl.EncodeOptions{PutWeights: func(*tensor.Tensor) (uint64, error) { return 0, errors.New("disk full") }}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("PutWeights failing: %v", err)
	}
}

func smallEncoding(t testing.TB) []byte {
	n := dsl.NewNetwork()
	x := n.AddInput("x", dsl.Float32, dsl.Dims{1, 1, 2, 2})
	c := n.AddConvolutionNd(x, 1, dsl.Dims{1, 1}, dsl.Float32Weights(2), dsl.Weights{})
	c.SetName("c")
	n.MarkOutput(n.AddActivation(c.Output(0), dsl.ActivationReLU).Output(0))
	return mustEncode(t, n, dsl.EncodeOptions{})
}

// TestDecodeTruncated: every prefix of an encoding is an error, never a
// panic, and an extra byte at the end is one too.
func TestDecodeTruncated(t *testing.T) {
	for _, b := range [][]byte{smallEncoding(t), mustEncode(t, dsltest.Networks()["loop with if"](rand.New(rand.NewPCG(3, 4))), dsl.EncodeOptions{}),
		mustEncode(t, dsltest.Networks()["plugin"](rand.New(rand.NewPCG(3, 4))), dsl.EncodeOptions{})} {
		for n := 0; n < len(b); n++ {
			_, err := dsl.DecodeNetwork(b[:n], decOpts)
			var de *diag.Error
			if !errors.As(err, &de) || de.Code != diag.EngineCorrupt {
				t.Fatalf("decoding %d of %d bytes: %v, want an EngineCorrupt error", n, len(b), err)
			}
		}
		if _, err := dsl.DecodeNetwork(append(slices.Clip(b), 0), decOpts); err == nil || !strings.Contains(err.Error(), "1 bytes after the end") {
			t.Errorf("decoding with a trailing byte: %v", err)
		}
	}
}

// TestDecodeBitFlips: flipping any bit of an encoding gives an error or a
// valid network, never a panic or an internal error.
func TestDecodeBitFlips(t *testing.T) {
	b := smallEncoding(t)
	for i := range b {
		for bit := 0; bit < 8; bit++ {
			c := slices.Clone(b)
			c[i] ^= 1 << bit
			if _, err := dsl.DecodeNetwork(c, decOpts); errors.Is(err, diag.Internal) {
				t.Errorf("flipping bit %d of byte %d: %v", bit, i, err)
			}
		}
	}
}

// encBytes writes encodings by hand for the error message tests.
type encBytes []byte

func (e encBytes) u(v uint64) encBytes { return binary.AppendUvarint(e, v) }
func (e encBytes) v(v int64) encBytes  { return binary.AppendVarint(e, v) }
func (e encBytes) s(s string) encBytes { return append(e.u(uint64(len(s))), s...) }

// header is the magic, versions and network name, no regions, no weights
// and one Float32 input x of dims [2].
func header() encBytes {
	e := encBytes("trtcnet\x00").u(1).s(dsl.EncodingVersion()).s("hand made")
	e = e.u(0).u(0)
	return e.u(1).s("x").v(int64(dsl.Float32)).u(1).v(2)
}

// TestDecodeMessages checks that errors say what is wrong and where.
func TestDecodeMessages(t *testing.T) {
	relu := func(e encBytes) encBytes {
		e = e.u(uint64(dsl.LayerActivation)).s("r").s("here.go:1").u(1).u(1).u(1).u(1).u(1).s("r_out").u(3)
		return e.s("act").v(int64(dsl.ActivationReLU)).s("alpha").u(0).u(0).u(0).u(0).s("beta").u(0).u(0).u(0).u(0)
	}
	valid := relu(header().u(1)).u(1).u(2)
	if net, err := dsl.DecodeNetwork(valid, dsl.DecodeOptions{}); err != nil {
		t.Fatalf("the hand-made encoding does not decode: %v", err)
	} else if net.Name() != "hand made" || net.NbLayers() != 1 || net.Layer(0).Location() != "here.go:1" || net.Output(0).Name() != "r_out" {
		t.Fatalf("the hand-made encoding decodes to\n%s", describe(net))
	}
	cases := []struct {
		name string
		b    []byte
		code diag.Code
		want string
	}{
		{"empty", nil, diag.EngineCorrupt, "header: not a trtc network encoding"},
		{"format", encBytes("trtcnet\x00").u(9), diag.EngineIncompatible, "format 9; this build of trtc reads format 1"},
		{"version", encBytes("trtcnet\x00").u(1).s("1-00"), diag.EngineIncompatible, "encoded under encoding version 1-00; this build of trtc has " + dsl.EncodingVersion()},
		{"kind", append(header().u(1).u(99), make([]byte, 8)...), diag.EngineCorrupt, "layer 0: unknown layer kind 99"},
		{"input ref", header().u(1).u(uint64(dsl.LayerActivation)).s("r").s("").u(1).u(1).u(1).u(5), diag.EngineCorrupt,
			`Activation "r" (layer 0): input 0 refers to tensor 4, which is not produced before the layer (1 tensors so far)`},
		{"input count", header().u(1).u(uint64(dsl.LayerActivation)).s("r").s("").u(1).u(1).u(0), diag.EngineCorrupt,
			"0 inputs; want 1 to 1"},
		{"output count", header().u(1).u(uint64(dsl.LayerActivation)).s("r").s("").u(1).u(1).u(1).u(1).u(2).s("a").s("b"), diag.EngineCorrupt,
			"2 outputs; Activation layers have 1"},
		{"field", header().u(1).u(uint64(dsl.LayerActivation)).s("r").s("").u(1).u(1).u(1).u(1).u(1).s("o").u(3).s("kind"), diag.EngineIncompatible,
			`parameter field "kind" where this build has "act"`},
		{"region", header().u(1).u(uint64(dsl.LayerTripLimit)).s("t").s("").u(1).u(1).u(1).u(1).u(0).u(2).s("loopBoundary.loop").u(1), diag.EngineCorrupt,
			`TripLimit "t" (layer 0): field loopBoundary.loop: region 0 does not exist`},
		{"huge count", header().u(1 << 40), diag.EngineCorrupt, "layers: layer count is 1099511627776, but only 0 bytes are left"},
		{"output", relu(header().u(1)).u(1).u(3), diag.EngineCorrupt, "output 0: the output refers to tensor 2, which does not exist (the network has 2 tensors)"},
		{"invalid network", relu(header().u(1)).u(0), diag.EngineCorrupt, `the decoded network "hand made" is not valid: 1 error`},
		{"bool", header().u(1).u(uint64(dsl.LayerCumulative)).s("c").s("").u(2).u(2).u(2).u(1).u(1).u(1).s("o").u(3).s("op").v(0).s("exclusive").u(7), diag.EngineCorrupt,
			`Cumulative "c" (layer 0): field exclusive: bool byte is 7, want 0 or 1`},
	}
	for _, c := range cases {
		_, err := dsl.DecodeNetwork(c.b, dsl.DecodeOptions{})
		var de *diag.Error
		if !errors.As(err, &de) || de.Code != c.code || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant %v containing %q", c.name, err, c.code, c.want)
		}
	}
}

func TestEncodingVersion(t *testing.T) {
	v := dsl.EncodingVersion()
	if !strings.HasPrefix(v, "1-") || len(v) != 18 {
		t.Errorf("EncodingVersion() = %q", v)
	}
}

// TestDecodedLayersStayEditable: a decoded layer's setters update the
// decoded network (the spatial window's owner points at the new layer, and
// loops join their new region).
func TestDecodedLayersStayEditable(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	got, err := dsl.DecodeNetwork(mustEncode(t, dsltest.Networks()["conv"](rng), dsl.EncodeOptions{}), decOpts)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := got.Layer(0).(*dsl.ConvolutionLayer)
	if !ok || c.Name() != "conv1" {
		t.Fatalf("layer 0 is %v", dsl.LayerString(got.Layer(0)))
	}
	if d := c.Output(0).Dims(); !d.Equal(dsl.Dims{1, 3, 3, 3}) {
		t.Fatalf("conv1 output %v", d)
	}
	c.SetStrideNd(dsl.Dims{1, 1})
	if d := c.Output(0).Dims(); !d.Equal(dsl.Dims{1, 3, 5, 3}) {
		t.Errorf("after SetStrideNd(1, 1) conv1 output is %v, want 1x3x5x3", d)
	}
	lp, err := dsl.DecodeNetwork(mustEncode(t, dsltest.Networks()["loop"](rng), dsl.EncodeOptions{}), decOpts)
	if err != nil {
		t.Fatal(err)
	}
	loops := lp.Loops()
	if len(loops) != 1 || loops[0].Name() != "accumulate" || loops[0].Network() != lp || len(loops[0].BoundaryLayers()) != 5 {
		t.Fatalf("decoded loops: %v", loops)
	}
}
