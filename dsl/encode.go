package dsl

// Network encoding: a whole Network as bytes, so that an engine file can
// carry the network the CPU target runs, and the network back.
//
// Layout. Integers are varints (encoding/binary: uvarint for counts,
// indices and ids, zigzag varint for signed values); strings and byte
// strings are a uvarint length and the bytes; floats are their IEEE bits,
// little endian, so every value (NaN payloads, -0) comes back exactly.
//
//	magic       "trtcnet\x00"
//	uvarint     format version (formatVersion)
//	string      EncodingVersion() of the encoder
//	string      network name
//	uvarint     region count; per region: byte kind (1 loop, 2 if-conditional), string name
//	uvarint     weights count; per weights tensor:
//	              varint dtype, uvarint rank, rank x varint dims,
//	              byte source: 0 embedded, then string raw bytes; 1 external, then uvarint id
//	uvarint     input count; per input: string name, varint dtype, uvarint rank, rank x varint dims
//	uvarint     layer count; per layer, in TopoLayers order:
//	              uvarint kind, string name, string location,
//	              uvarint required inputs, uvarint max inputs (layerBase bookkeeping),
//	              uvarint input count, per input a tensor ref,
//	              uvarint output count, per output its tensor's name,
//	              uvarint field count, per field: string path, value
//	uvarint     output count, per network output a tensor ref (in marking order)
//
// Tensors are numbered in the order they appear: the network inputs, then
// each layer's outputs. A tensor ref is 0 for none or 1 + that number; a
// layer input must refer to an earlier tensor (TopoLayers order makes that
// so), except a *Tensor parameter field (a recurrence's next value, a loop
// back edge), which may point forward and is patched once every layer
// exists. A weights ref (a Weights field, or a *tensor.Tensor plugin
// attribute) is 0 for none or 1 + the index in the weights table, so a
// tensor shared by several layers is stored once and shared again after
// decoding. A region ref is 1 + the index in the region table.
//
// Field values, by the field's Go type: ints and named int enums (varint or
// uvarint), bools (one byte, 0 or 1), float32/float64 (4/8 bytes), strings,
// slices (uvarint 0 for nil, else 1 + length, then the elements; nil and
// empty Dims differ), arrays (the elements), Weights (a weights ref),
// *Tensor (a tensor ref), *Loop / *IfConditional (a region ref), Plugin
// (string name, version, namespace, uvarint attribute count, per attribute
// in key order: string key, byte type tag, value; see the attr* tags).
//
// Field paths ("convParams.spatialWindow.sp.stride") are written with each
// value and must match the decoder's schema in order: together with the
// EncodingVersion check this turns a changed layer struct into a clear
// error instead of a misread value.

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"sort"
	"unsafe"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

const (
	encodingMagic = "trtcnet\x00"
	formatVersion = 1
)

// Region kinds in the region table.
const (
	regionLoop = 1
	regionCond = 2
)

// Weights sources in the weights table.
const (
	weightsEmbedded = 0
	weightsExternal = 1
)

// EncodeOptions configure EncodeNetwork.
type EncodeOptions struct {
	// PutWeights stores a weights tensor outside the encoding (an engine
	// file's raw, mappable sections) and returns the id DecodeOptions.
	// GetWeights will be given for it. It is called once per distinct
	// tensor (by pointer), in order of first use. If nil, weights are
	// embedded in the bytes.
	PutWeights func(t *tensor.Tensor) (uint64, error)
}

// EncodeNetwork serializes net: its name, inputs, every layer with all of
// its parameters and weights, loops and if-conditionals, and outputs, so
// that DecodeNetwork rebuilds a network that computes exactly the same
// thing. A network with errors is not encoded: its Err is returned.
// Plugin layers are encoded by the plugin's identity and attributes; the
// decoder recreates the plugin from them (DecodeOptions.NewPlugin).
func EncodeNetwork(net *Network, opt EncodeOptions) ([]byte, error) {
	if net == nil {
		return nil, diag.Errorf(diag.InvalidArgument, "EncodeNetwork with a nil network")
	}
	if schemaErr != nil {
		return nil, diag.Wrap(diag.Internal, schemaErr, "cannot encode network %q", net.name)
	}
	if err := net.Err(); err != nil {
		return nil, err
	}
	e := &encoder{opt: opt, net: net, layer: -1, tensors: map[*Tensor]int{},
		regions: map[any]int{}, weights: map[*tensor.Tensor]int{}}
	layers := net.TopoLayers()
	for _, t := range net.inputs {
		e.tensors[t] = len(e.tensors)
	}
	for _, l := range layers {
		for _, t := range l.base().outputs {
			e.tensors[t] = len(e.tensors)
		}
	}

	e.putUvarint(uint64(len(layers)))
	seen := len(net.inputs)
	for i, l := range layers {
		if err := e.layer1(i, l, seen); err != nil {
			return nil, err
		}
		seen += len(l.base().outputs)
	}
	e.layer, e.op, e.name = -1, "", ""
	e.putUvarint(uint64(len(net.outputs)))
	for _, t := range net.outputs {
		if err := e.putTensorRef(t, "network output"); err != nil {
			return nil, err
		}
	}
	body := e.buf

	e.buf = append([]byte(encodingMagic), nil...)
	e.putUvarint(formatVersion)
	e.putString(encodingVersion)
	e.putString(net.name)
	e.putUvarint(uint64(len(e.regionList)))
	for _, r := range e.regionList {
		switch r := r.(type) {
		case *Loop:
			e.buf = append(e.buf, regionLoop)
			e.putString(r.name)
		case *IfConditional:
			e.buf = append(e.buf, regionCond)
			e.putString(r.name)
		}
	}
	e.putUvarint(uint64(len(e.weightList)))
	for i, w := range e.weightList {
		e.putVarint(int64(w.DType()))
		e.putDims(w.Shape())
		if opt.PutWeights == nil {
			e.buf = append(e.buf, weightsEmbedded)
			e.putBytes(w.Bytes())
			continue
		}
		id, err := opt.PutWeights(w)
		if err != nil {
			return nil, &diag.Error{Code: diag.InvalidArgument, Index: -1,
				Msg: fmt.Sprintf("PutWeights failed for weights %d (%v %v)", i, w.DType(), w.Shape()), Err: err}
		}
		e.buf = append(e.buf, weightsExternal)
		e.putUvarint(id)
	}
	e.putUvarint(uint64(len(net.inputs)))
	for _, t := range net.inputs {
		e.putString(t.name)
		e.putVarint(int64(t.dtype))
		e.putDims(t.dims)
	}
	return append(e.buf, body...), nil
}

// encoder holds the numbering of tensors, regions and weights while a
// network is written.
type encoder struct {
	opt        EncodeOptions
	net        *Network
	buf        []byte
	tensors    map[*Tensor]int
	regions    map[any]int
	regionList []any
	weights    map[*tensor.Tensor]int
	weightList []*tensor.Tensor

	// Where the encoder is, for messages.
	layer    int
	op, name string
	field    string
}

func (e *encoder) errorf(code diag.Code, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if e.field != "" {
		msg = "field " + e.field + ": " + msg
	}
	return &diag.Error{Code: code, Layer: e.name, Op: e.op, Index: e.layer, Msg: msg}
}

// layer1 writes layer l, the i-th in TopoLayers order; seen is the number
// of tensors written before it.
func (e *encoder) layer1(i int, l Layer, seen int) error {
	b := l.base()
	e.layer, e.op, e.name, e.field = i, b.kind.String(), b.name, ""
	if b.kind < 0 || b.kind >= numLayerTypes || reflect.TypeOf(l) != reflect.PointerTo(layerStructs[b.kind]) {
		return e.errorf(diag.Internal, "layer of Go type %T has kind %v, which the encoding maps to another struct", l, b.kind)
	}
	io := layerIO[b.kind]
	if (io.required >= 0 && (b.nbRequired != io.required || b.maxInputs != io.max)) ||
		(io.required < 0 && b.nbRequired != b.maxInputs) || (io.outputs >= 0 && len(b.outputs) != io.outputs) {
		return e.errorf(diag.Internal, "the layer has %d required inputs, %d at most and %d outputs; the encoding's layerIO table says %v (update it)",
			b.nbRequired, b.maxInputs, len(b.outputs), io)
	}
	e.putUvarint(uint64(b.kind))
	e.putString(b.name)
	e.putString(b.loc)
	e.putUvarint(uint64(b.nbRequired))
	e.putUvarint(uint64(b.maxInputs))
	e.putUvarint(uint64(len(b.inputs)))
	for k, t := range b.inputs {
		if t != nil {
			if j, ok := e.tensors[t]; ok && j >= seen {
				return e.errorf(diag.Internal, "input %d (%q) is produced by a later layer in TopoLayers order", k, t.name)
			}
		}
		if err := e.putTensorRef(t, fmt.Sprintf("input %d", k)); err != nil {
			return err
		}
	}
	e.putUvarint(uint64(len(b.outputs)))
	for _, t := range b.outputs {
		e.putString(t.name)
	}
	s := schemas[b.kind]
	e.putUvarint(uint64(len(s.fields)))
	for _, f := range s.fields {
		e.field = f.path
		e.putString(f.path)
		if err := f.enc(e, fieldOf(l, f.index)); err != nil {
			return err
		}
	}
	e.field = ""
	return nil
}

// fieldOf returns the field of l at index as a settable value, unexported
// or not (l points to its struct, so the field is addressable).
func fieldOf(l Layer, index []int) reflect.Value {
	f := reflect.ValueOf(l).Elem().FieldByIndex(index)
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

func (e *encoder) putUvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) putVarint(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }
func (e *encoder) putString(s string) {
	e.putUvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}
func (e *encoder) putBytes(b []byte) {
	e.putUvarint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}
func (e *encoder) putDims(d []int64) {
	e.putUvarint(uint64(len(d)))
	for _, v := range d {
		e.putVarint(v)
	}
}

func (e *encoder) putTensorRef(t *Tensor, what string) error {
	if t == nil {
		e.putUvarint(0)
		return nil
	}
	i, ok := e.tensors[t]
	if !ok {
		return e.errorf(diag.Internal, "%s (%q) is neither a network input nor a layer output", what, t.name)
	}
	e.putUvarint(uint64(i) + 1)
	return nil
}

func (e *encoder) putWeightsRef(t *tensor.Tensor) {
	if t == nil {
		e.putUvarint(0)
		return
	}
	i, ok := e.weights[t]
	if !ok {
		i = len(e.weightList)
		e.weights[t] = i
		e.weightList = append(e.weightList, t)
	}
	e.putUvarint(uint64(i) + 1)
}

// The field encoders. v is the field (or an element of it), settable.

func encInt(e *encoder, v reflect.Value) error  { e.putVarint(v.Int()); return nil }
func encUint(e *encoder, v reflect.Value) error { e.putUvarint(v.Uint()); return nil }
func encBool(e *encoder, v reflect.Value) error {
	if v.Bool() {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
	return nil
}
func encFloat32(e *encoder, v reflect.Value) error {
	e.buf = binary.LittleEndian.AppendUint32(e.buf, math.Float32bits(float32(v.Float())))
	return nil
}
func encFloat64(e *encoder, v reflect.Value) error {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(v.Float()))
	return nil
}
func encString(e *encoder, v reflect.Value) error { e.putString(v.String()); return nil }

func encSlice(elem func(*encoder, reflect.Value) error) func(*encoder, reflect.Value) error {
	return func(e *encoder, v reflect.Value) error {
		if v.IsNil() {
			e.putUvarint(0)
			return nil
		}
		e.putUvarint(uint64(v.Len()) + 1)
		return encElems(e, v, elem)
	}
}

func encArray(elem func(*encoder, reflect.Value) error) func(*encoder, reflect.Value) error {
	return func(e *encoder, v reflect.Value) error { return encElems(e, v, elem) }
}

func encElems(e *encoder, v reflect.Value, elem func(*encoder, reflect.Value) error) error {
	for i := 0; i < v.Len(); i++ {
		if err := elem(e, v.Index(i)); err != nil {
			return err
		}
	}
	return nil
}

func encWeightsField(e *encoder, v reflect.Value) error {
	e.putWeightsRef(v.Addr().Interface().(*Weights).t)
	return nil
}

func encTensorField(e *encoder, v reflect.Value) error {
	return e.putTensorRef(v.Interface().(*Tensor), "tensor")
}

func encRegionField(e *encoder, v reflect.Value) error {
	if v.IsNil() {
		return e.errorf(diag.Internal, "a boundary layer without its loop or conditional")
	}
	r := v.Interface()
	i, ok := e.regions[r]
	if !ok {
		i = len(e.regionList)
		e.regions[r] = i
		e.regionList = append(e.regionList, r)
	}
	e.putUvarint(uint64(i) + 1)
	return nil
}

// Plugin attribute type tags. Values come back with the Go type they had,
// so a plugin's creator sees what the original plugin reported.
const (
	attrBool byte = iota + 1
	attrInt
	attrInt32
	attrInt64
	attrFloat32
	attrFloat64
	attrString
	attrInts
	attrInt32s
	attrInt64s
	attrFloat32s
	attrFloat64s
	attrStrings
	attrBytes
	attrTensor // a *tensor.Tensor, as a weights ref
)

func encPluginField(e *encoder, v reflect.Value) error {
	p, _ := v.Interface().(Plugin)
	if p == nil {
		return e.errorf(diag.InvalidArgument, "a plugin layer without a plugin")
	}
	e.putString(p.PluginName())
	e.putString(p.PluginVersion())
	e.putString(p.PluginNamespace())
	attrs := p.Attributes()
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.putUvarint(uint64(len(keys)))
	for _, k := range keys {
		e.putString(k)
		if !e.putAttr(attrs[k]) {
			return e.errorf(diag.UnsupportedAttr, "%s: attribute %q has Go type %T, which the network encoding cannot hold (bool, int, int32, int64, float32, float64, string, slices of those, []byte or *tensor.Tensor)",
				PluginID(p), k, attrs[k])
		}
	}
	return nil
}

func (e *encoder) putAttr(a any) bool {
	switch a := a.(type) {
	case bool:
		e.buf = append(e.buf, attrBool)
		encBool(e, reflect.ValueOf(a))
	case int:
		e.buf = append(e.buf, attrInt)
		e.putVarint(int64(a))
	case int32:
		e.buf = append(e.buf, attrInt32)
		e.putVarint(int64(a))
	case int64:
		e.buf = append(e.buf, attrInt64)
		e.putVarint(a)
	case float32:
		e.buf = append(e.buf, attrFloat32)
		e.buf = binary.LittleEndian.AppendUint32(e.buf, math.Float32bits(a))
	case float64:
		e.buf = append(e.buf, attrFloat64)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(a))
	case string:
		e.buf = append(e.buf, attrString)
		e.putString(a)
	case *tensor.Tensor:
		e.buf = append(e.buf, attrTensor)
		e.putWeightsRef(a)
	case []byte, []int, []int32, []int64, []float32, []float64, []string:
		tags := map[reflect.Type]byte{reflect.TypeFor[[]byte](): attrBytes, reflect.TypeFor[[]int](): attrInts, reflect.TypeFor[[]int32](): attrInt32s,
			reflect.TypeFor[[]int64](): attrInt64s, reflect.TypeFor[[]float32](): attrFloat32s,
			reflect.TypeFor[[]float64](): attrFloat64s, reflect.TypeFor[[]string](): attrStrings}
		v := reflect.ValueOf(a)
		e.buf = append(e.buf, tags[v.Type()])
		enc, _, _ := codecFor(v.Type(), nil)
		enc(e, v)
	default:
		return false
	}
	return true
}
