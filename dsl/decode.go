package dsl

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

// maxLayerInputs bounds the input counts a layer record may declare; the
// inputs themselves are also bounded by the bytes left.
const maxLayerInputs = 1 << 20

// DecodeOptions configure DecodeNetwork.
type DecodeOptions struct {
	// GetWeights returns the weights EncodeOptions.PutWeights stored under
	// id. It must be set when the encoding refers to external weights;
	// the tensor it returns must have the recorded type and shape.
	GetWeights func(id uint64) (*tensor.Tensor, error)
	// NewPlugin recreates a plugin from its identity and attributes (the
	// caller wires it to the plugins registry; dsl does not depend on it).
	// If nil, a network with plugin layers fails to decode with an error
	// naming the plugin.
	NewPlugin func(name, version, namespace string, attrs map[string]any) (Plugin, error)
}

// DecodeNetwork rebuilds a network from EncodeNetwork's bytes. The bytes
// are untrusted: every count is checked against what is left before
// anything is allocated, every reference is range-checked, and problems
// are *diag.Error values with code EngineCorrupt (EngineIncompatible when
// the bytes come from another encoding version; UnsupportedNode when a
// plugin cannot be recreated) saying what is wrong and at which layer.
// The rebuilt network is checked (Network.Err) before it is returned.
// Embedded weights are copied out of b, so b may be reused afterwards.
func DecodeNetwork(b []byte, opt DecodeOptions) (net *Network, err error) {
	defer func() {
		if r := recover(); r != nil {
			net, err = nil, diag.Errorf(diag.Internal, "panic while decoding a network: %v", r)
		}
	}()
	if schemaErr != nil {
		return nil, diag.Wrap(diag.Internal, schemaErr, "cannot decode a network")
	}
	d := &decoder{b: b, opt: opt, layer: -1}
	net = d.network()
	if d.err != nil {
		return nil, d.err
	}
	if err := net.Err(); err != nil {
		return nil, &diag.Error{Code: diag.EngineCorrupt, Index: -1,
			Msg: fmt.Sprintf("the decoded network %q is not valid", net.name), Err: err}
	}
	return net, nil
}

// decoder reads an encoding. The first problem is kept in err; after it,
// every read returns zero values and counts are 0, so the loops of the
// caller end without allocating.
type decoder struct {
	b   []byte
	off int
	opt DecodeOptions
	err *diag.Error

	net     *Network
	tensors []*Tensor
	regions []any // templates: *Loop or *IfConditional with the name
	weights []*tensor.Tensor
	pending []pendingRef

	// Where the decoder is, for messages.
	where      string // outside layers: "header", "weights 3", ...
	layer      int
	op, name   string
	field      string
	fieldIndex []int
}

// pendingRef is a *Tensor field that may refer to a later tensor (a
// recurrence's next value), set once every layer exists.
type pendingRef struct {
	layer int
	path  string
	index []int
	ref   uint64
}

func (d *decoder) failf(code diag.Code, format string, args ...any) {
	if d.err != nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if d.field != "" {
		msg = "field " + d.field + ": " + msg
	}
	switch {
	case d.layer >= 0 && d.op == "":
		msg = fmt.Sprintf("layer %d: %s", d.layer, msg)
	case d.layer < 0 && d.where != "":
		msg = d.where + ": " + msg
	}
	msg += fmt.Sprintf(" (at byte %d of %d)", d.off, len(d.b))
	d.err = &diag.Error{Code: code, Layer: d.name, Op: d.op, Index: d.layer, Msg: msg}
}

func (d *decoder) corrupt(format string, args ...any) { d.failf(diag.EngineCorrupt, format, args...) }

func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.corrupt("%s: truncated or overlong varint", what)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.corrupt("%s: truncated or overlong varint", what)
		return 0
	}
	d.off += n
	return v
}

// count reads a count of items that take at least minSize bytes each and
// checks that they fit in what is left.
func (d *decoder) count(what string, minSize int) int {
	v := d.uvarint(what)
	if d.err == nil && v > uint64(d.left()/minSize) {
		d.corrupt("%s is %d, but only %d bytes are left", what, v, d.left())
		return 0
	}
	return int(v)
}

// small reads a non-negative int that must not exceed limit.
func (d *decoder) small(what string, limit int) int {
	v := d.uvarint(what)
	if d.err == nil && v > uint64(limit) {
		d.corrupt("%s is %d, more than %d", what, v, limit)
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(what string) []byte {
	n := d.count(what+" length", 1)
	if d.err != nil {
		return nil
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s
}

func (d *decoder) str(what string) string { return string(d.bytes(what)) }

func (d *decoder) byte1(what string) byte {
	if d.err != nil {
		return 0
	}
	if d.left() < 1 {
		d.corrupt("%s: truncated", what)
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) fixed(what string, n int) []byte {
	if d.err != nil {
		return make([]byte, n)
	}
	if d.left() < n {
		d.corrupt("%s: want %d bytes, %d left", what, n, d.left())
		return make([]byte, n)
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s
}

func (d *decoder) dims(what string) []int64 {
	n := d.count(what+" rank", 1)
	if d.err != nil {
		return nil
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = d.varint(what)
	}
	return out
}

func (d *decoder) dtype(what string) DataType {
	v := d.varint(what)
	dt := DataType(v)
	if d.err == nil && (int64(dt) != v || !dt.Valid()) {
		d.corrupt("%s %d is not a data type", what, v)
	}
	return dt
}

// network reads the whole encoding.
func (d *decoder) network() *Network {
	d.where = "header"
	if d.left() < len(encodingMagic) || string(d.b[:len(encodingMagic)]) != encodingMagic {
		d.corrupt("not a trtc network encoding (bad magic)")
		return nil
	}
	d.off = len(encodingMagic)
	if v := d.uvarint("format version"); d.err == nil && v != formatVersion {
		d.failf(diag.EngineIncompatible, "network encoding format %d; this build of trtc reads format %d", v, formatVersion)
	}
	if v := d.str("encoding version"); d.err == nil && v != encodingVersion {
		d.failf(diag.EngineIncompatible, "the network was encoded under encoding version %s; this build of trtc has %s (rebuild the engine)", v, encodingVersion)
	}
	n := NewNetwork()
	d.net = n
	n.name = d.str("network name")

	d.where = "region table"
	for i, nr := 0, d.count("region count", 2); i < nr && d.err == nil; i++ {
		d.where = fmt.Sprintf("region %d", i)
		kind := d.byte1("region kind")
		name := d.str("region name")
		switch kind {
		case regionLoop:
			d.regions = append(d.regions, &Loop{name: name})
		case regionCond:
			d.regions = append(d.regions, &IfConditional{name: name})
		default:
			d.corrupt("region kind %d is neither a loop (%d) nor an if-conditional (%d)", kind, regionLoop, regionCond)
		}
	}

	d.where = "weights table"
	for i, nw := 0, d.count("weights count", 4); i < nw && d.err == nil; i++ {
		d.where = fmt.Sprintf("weights %d", i)
		d.weights = append(d.weights, d.weights1())
	}

	d.where = "inputs"
	for i, ni := 0, d.count("input count", 3); i < ni && d.err == nil; i++ {
		d.where = fmt.Sprintf("input %d", i)
		name := d.str("name")
		dt := d.dtype("data type")
		dims := d.dims("dims")
		if d.err == nil {
			d.tensors = append(d.tensors, n.AddInput(name, dt, dims))
		}
	}

	d.where = "layers"
	nl := d.count("layer count", 7)
	for i := 0; i < nl && d.err == nil; i++ {
		d.layer1(i)
	}
	d.layer, d.op, d.name, d.field = -1, "", "", ""

	d.where = "outputs"
	no := d.count("output count", 1)
	for i := 0; i < no && d.err == nil; i++ {
		d.where = fmt.Sprintf("output %d", i)
		t := d.tensorRef("the output", "does not exist (the network has %d tensors)")
		switch {
		case d.err != nil:
		case t == nil:
			d.corrupt("no tensor")
		case t.isOutput:
			d.corrupt("tensor %q is already an output", t.name)
		default:
			n.MarkOutput(t)
		}
	}
	d.where = "end"
	if d.err == nil && d.left() != 0 {
		d.corrupt("%d bytes after the end of the network", d.left())
	}
	if d.err != nil {
		return nil
	}

	// Back edges: every tensor exists now.
	for _, p := range d.pending {
		d.layer, d.field = p.layer, p.path
		l := n.layers[p.layer]
		d.op, d.name = l.Type().String(), l.Name()
		if p.ref == 0 {
			continue
		}
		if p.ref > uint64(len(d.tensors)) {
			d.corrupt("tensor %d does not exist (the network has %d)", p.ref-1, len(d.tensors))
			return nil
		}
		fieldOf(l, p.index).Set(reflect.ValueOf(d.tensors[p.ref-1]))
		l.base().changed()
	}
	return n
}

// weights1 reads one entry of the weights table.
func (d *decoder) weights1() *tensor.Tensor {
	dt := d.dtype("data type")
	shape := d.dims("shape")
	for _, v := range shape {
		if d.err == nil && v < 0 {
			d.corrupt("negative dimension in shape %v", shape)
		}
	}
	switch src := d.byte1("source"); {
	case d.err != nil:
		return nil
	case src == weightsEmbedded:
		raw := d.bytes("values")
		if d.err != nil {
			return nil
		}
		t, err := tensor.FromBytes(dt, shape, bytes.Clone(raw))
		if err != nil {
			d.corrupt("%v", err)
		}
		return t
	case src == weightsExternal:
		id := d.uvarint("id")
		if d.err != nil {
			return nil
		}
		if d.opt.GetWeights == nil {
			d.failf(diag.InvalidArgument, "the weights are stored outside the encoding (id %d) and DecodeOptions.GetWeights is nil", id)
			return nil
		}
		t, err := d.opt.GetWeights(id)
		switch {
		case err != nil:
			d.failf(diag.EngineCorrupt, "GetWeights(%d): %v", id, err)
		case t == nil:
			d.corrupt("GetWeights(%d) returned no tensor", id)
		case t.DType() != dt || !slices.Equal(t.Shape(), shape):
			d.corrupt("GetWeights(%d) returned %v %v; the encoding records %v %v", id, t.DType(), t.Shape(), dt, shape)
		}
		return t
	default:
		d.corrupt("weights source %d is neither embedded (%d) nor external (%d)", src, weightsEmbedded, weightsExternal)
		return nil
	}
}

// tensorRef reads a ref to a tensor decoded before; nil for ref 0. why
// formats the number of tensors for the message when the ref is too large.
func (d *decoder) tensorRef(what, why string) *Tensor {
	r := d.uvarint(what)
	if d.err != nil || r == 0 {
		return nil
	}
	if r > uint64(len(d.tensors)) {
		d.corrupt("%s refers to tensor %d, which "+why, what, r-1, len(d.tensors))
		return nil
	}
	return d.tensors[r-1]
}

// layer1 reads layer i and adds it to the network: a template of the
// layer's struct gets the kind, name, bookkeeping, output names and
// parameters; CopyLayer then adds it with the decoded inputs, fixing the
// spatial window's owner and joining the loop or conditional.
func (d *decoder) layer1(i int) {
	d.layer, d.op, d.name, d.field = i, "", "", ""
	kv := d.uvarint("layer kind")
	if d.err != nil {
		return
	}
	if kv >= uint64(numLayerTypes) {
		d.corrupt("unknown layer kind %d (this build knows %d kinds)", kv, numLayerTypes)
		return
	}
	kind := LayerType(kv)
	d.op = kind.String()
	name := d.str("name")
	d.name = name
	loc := d.str("location")
	io := layerIO[kind]
	nbRequired := d.small("required input count", maxLayerInputs)
	maxInputs := d.small("max input count", maxLayerInputs)
	nIn := d.count("input count", 1)
	if d.err != nil {
		return
	}
	switch {
	case io.required >= 0 && (nbRequired != io.required || maxInputs != io.max):
		d.corrupt("%d required and %d max inputs; %v layers have %d and %d", nbRequired, maxInputs, kind, io.required, io.max)
	case io.required < 0 && nbRequired != maxInputs:
		d.corrupt("%d required and %d max inputs; %v layers have as many of each", nbRequired, maxInputs, kind)
	case nIn < nbRequired || nIn > maxInputs:
		d.corrupt("%d inputs; want %d to %d", nIn, nbRequired, maxInputs)
	}
	inputs := make([]*Tensor, nIn)
	for k := range inputs {
		inputs[k] = d.tensorRef(fmt.Sprintf("input %d", k), "is not produced before the layer (%d tensors so far)")
	}
	nOut := d.count("output count", 1)
	if d.err == nil && io.outputs >= 0 && nOut != io.outputs {
		d.corrupt("%d outputs; %v layers have %d", nOut, kind, io.outputs)
	}
	if d.err != nil {
		return
	}

	s := schemas[kind]
	tmpl := reflect.New(s.typ).Interface().(Layer)
	b := tmpl.base()
	b.kind, b.name, b.loc, b.nbRequired, b.maxInputs = kind, name, loc, nbRequired, maxInputs
	b.inputs = make([]*Tensor, nIn)
	for k := 0; k < nOut && d.err == nil; k++ {
		b.outputs = append(b.outputs, &Tensor{name: d.str(fmt.Sprintf("output %d name", k))})
	}
	if nf := d.count("field count", 1); d.err == nil && nf != len(s.fields) {
		d.failf(diag.EngineIncompatible, "%d parameter fields; %v layers of this build have %d", nf, kind, len(s.fields))
	}
	for _, f := range s.fields {
		if d.err != nil {
			return
		}
		path := d.str("field path")
		if d.err == nil && path != f.path {
			d.failf(diag.EngineIncompatible, "parameter field %q where this build has %q", path, f.path)
			return
		}
		d.field, d.fieldIndex = f.path, f.index
		f.dec(d, fieldOf(tmpl, f.index))
		d.field, d.fieldIndex = "", nil
	}
	if d.err != nil {
		return
	}
	if p, ok := tmpl.(*PluginLayer); ok {
		// PluginLayer.infer trusts both counts (AddPluginV3 derives them).
		if nb := max(p.plugin.NbOutputs(), 0); nb != nOut {
			d.corrupt("%s declares %d outputs; the encoding has %d", PluginID(p.plugin), nb, nOut)
			return
		}
		if p.nbShapeInputs < 0 || p.nbShapeInputs > nIn {
			d.corrupt("%d shape inputs, but the layer has %d inputs", p.nbShapeInputs, nIn)
			return
		}
	}
	if d.net.CopyLayer(tmpl, inputs) == nil {
		d.failf(diag.Internal, "CopyLayer refused the layer: %v", d.net.Err())
		return
	}
	d.tensors = append(d.tensors, d.net.layers[i].base().outputs...)
}

// The field decoders. v is the template's field (or an element of it),
// settable.

func decInt(d *decoder, v reflect.Value) {
	x := d.varint("value")
	if d.err == nil && v.OverflowInt(x) {
		d.corrupt("%d does not fit in %v", x, v.Type())
		return
	}
	v.SetInt(x)
}

func decUint(d *decoder, v reflect.Value) {
	x := d.uvarint("value")
	if d.err == nil && v.OverflowUint(x) {
		d.corrupt("%d does not fit in %v", x, v.Type())
		return
	}
	v.SetUint(x)
}

func decBool(d *decoder, v reflect.Value) {
	switch c := d.byte1("bool"); {
	case d.err != nil:
	case c > 1:
		d.corrupt("bool byte is %d, want 0 or 1", c)
	default:
		v.SetBool(c == 1)
	}
}

func decFloat32(d *decoder, v reflect.Value) {
	v.SetFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(d.fixed("float32", 4)))))
}

func decFloat64(d *decoder, v reflect.Value) {
	v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(d.fixed("float64", 8))))
}

func decString(d *decoder, v reflect.Value) { v.SetString(d.str("string")) }

func decSlice(elem func(*decoder, reflect.Value)) func(*decoder, reflect.Value) {
	return func(d *decoder, v reflect.Value) {
		n := d.count("slice length", 1)
		if d.err != nil || n == 0 {
			return // nil
		}
		n-- // 1 + length
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n && d.err == nil; i++ {
			elem(d, s.Index(i))
		}
		v.Set(s)
	}
}

func decArray(elem func(*decoder, reflect.Value)) func(*decoder, reflect.Value) {
	return func(d *decoder, v reflect.Value) {
		for i := 0; i < v.Len() && d.err == nil; i++ {
			elem(d, v.Index(i))
		}
	}
}

func (d *decoder) weightsRef() *tensor.Tensor {
	r := d.uvarint("weights ref")
	if d.err != nil || r == 0 {
		return nil
	}
	if r > uint64(len(d.weights)) {
		d.corrupt("weights %d do not exist (the weights table has %d)", r-1, len(d.weights))
		return nil
	}
	return d.weights[r-1]
}

func decWeightsField(d *decoder, v reflect.Value) {
	v.Addr().Interface().(*Weights).t = d.weightsRef()
}

// decTensorField records a *Tensor field as a pending ref, resolved once
// every layer exists: a recurrence's next value is produced later.
func decTensorField(d *decoder, v reflect.Value) {
	d.pending = append(d.pending, pendingRef{layer: d.layer, path: d.field, index: d.fieldIndex, ref: d.uvarint("tensor ref")})
}

func decRegionField(kind byte) func(*decoder, reflect.Value) {
	return func(d *decoder, v reflect.Value) {
		r := d.uvarint("region ref")
		if d.err != nil {
			return
		}
		if r == 0 || r > uint64(len(d.regions)) {
			d.corrupt("region %d does not exist (the region table has %d)", int64(r)-1, len(d.regions))
			return
		}
		rg := d.regions[r-1]
		if _, isLoop := rg.(*Loop); isLoop != (kind == regionLoop) {
			d.corrupt("region %d is a %T, not what a %s layer belongs to", r-1, rg, d.op)
			return
		}
		v.Set(reflect.ValueOf(rg))
	}
}

func decPluginField(d *decoder, v reflect.Value) {
	name := d.str("plugin name")
	version := d.str("plugin version")
	ns := d.str("plugin namespace")
	n := d.count("attribute count", 3)
	attrs := make(map[string]any, n)
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str("attribute name")
		if d.err == nil && i > 0 && k <= prev {
			d.corrupt("attribute %q is out of order or repeated", k)
		}
		prev = k
		a := d.attr(k)
		attrs[k] = a
	}
	if d.err != nil {
		return
	}
	id := fmt.Sprintf("plugin %q version %q namespace %q", name, version, ns)
	if d.opt.NewPlugin == nil {
		d.failf(diag.UnsupportedNode, "the layer runs %s and DecodeOptions.NewPlugin is nil, so it cannot be recreated", id)
		return
	}
	p, err := d.opt.NewPlugin(name, version, ns, attrs)
	switch {
	case err != nil:
		// Keep the loader's code: an unregistered plugin is an
		// incompatible engine, not a corrupt one.
		code := diag.CodeOf(err)
		if code == 0 {
			code = diag.UnsupportedNode
		}
		d.failf(code, "cannot recreate %s: %v", id, err)
	case p == nil:
		d.failf(diag.UnsupportedNode, "NewPlugin returned no plugin for %s", id)
	default:
		v.Set(reflect.ValueOf(&p).Elem())
	}
}

// attr reads one plugin attribute value.
func (d *decoder) attr(key string) any {
	what := fmt.Sprintf("attribute %q", key)
	tag := d.byte1(what + " type")
	if d.err != nil {
		return nil
	}
	var typ reflect.Type
	switch tag {
	case attrBool:
		c := d.byte1(what)
		if d.err == nil && c > 1 {
			d.corrupt("%s: bool byte is %d, want 0 or 1", what, c)
		}
		return c == 1
	case attrInt:
		x := d.varint(what)
		if d.err == nil && int64(int(x)) != x {
			d.corrupt("%s: %d does not fit in int", what, x)
		}
		return int(x)
	case attrInt32:
		x := d.varint(what)
		if d.err == nil && int64(int32(x)) != x {
			d.corrupt("%s: %d does not fit in int32", what, x)
		}
		return int32(x)
	case attrInt64:
		return d.varint(what)
	case attrFloat32:
		return math.Float32frombits(binary.LittleEndian.Uint32(d.fixed(what, 4)))
	case attrFloat64:
		return math.Float64frombits(binary.LittleEndian.Uint64(d.fixed(what, 8)))
	case attrString:
		return d.str(what)
	case attrTensor:
		t := d.weightsRef()
		if d.err == nil && t == nil {
			d.corrupt("%s: no tensor", what)
		}
		return t
	case attrBytes:
		typ = reflect.TypeFor[[]byte]()
	case attrInts:
		typ = reflect.TypeFor[[]int]()
	case attrInt32s:
		typ = reflect.TypeFor[[]int32]()
	case attrInt64s:
		typ = reflect.TypeFor[[]int64]()
	case attrFloat32s:
		typ = reflect.TypeFor[[]float32]()
	case attrFloat64s:
		typ = reflect.TypeFor[[]float64]()
	case attrStrings:
		typ = reflect.TypeFor[[]string]()
	default:
		d.corrupt("%s: unknown type tag %d", what, tag)
		return nil
	}
	v := reflect.New(typ).Elem()
	_, dec, _ := codecFor(typ, nil)
	dec(d, v)
	return v.Interface()
}
