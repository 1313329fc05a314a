package dsl

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"

	"github.com/trtc/trtc/tensor"
)

// The encoding's schema: for every layer kind, its concrete struct and the
// list of parameter fields (found by reflection), each with a codec. It is
// computed once at init. A field whose type has no codec is recorded in
// schemaErr, which EncodeNetwork and DecodeNetwork return, rather than
// panicking at init: a panic would stop every program that imports dsl,
// for a field only the encoding cares about; the encoding tests fail on it.

// layerStructs maps each layer kind to its concrete struct.
var layerStructs = [numLayerTypes]reflect.Type{
	LayerConvolution:       reflect.TypeFor[ConvolutionLayer](),
	LayerCast:              reflect.TypeFor[CastLayer](),
	LayerActivation:        reflect.TypeFor[ActivationLayer](),
	LayerPooling:           reflect.TypeFor[PoolingLayer](),
	LayerLRN:               reflect.TypeFor[LRNLayer](),
	LayerScale:             reflect.TypeFor[ScaleLayer](),
	LayerSoftMax:           reflect.TypeFor[SoftMaxLayer](),
	LayerDeconvolution:     reflect.TypeFor[DeconvolutionLayer](),
	LayerConcatenation:     reflect.TypeFor[ConcatenationLayer](),
	LayerElementWise:       reflect.TypeFor[ElementWiseLayer](),
	LayerPlugin:            reflect.TypeFor[PluginLayer](),
	LayerUnary:             reflect.TypeFor[UnaryLayer](),
	LayerPadding:           reflect.TypeFor[PaddingLayer](),
	LayerShuffle:           reflect.TypeFor[ShuffleLayer](),
	LayerReduce:            reflect.TypeFor[ReduceLayer](),
	LayerTopK:              reflect.TypeFor[TopKLayer](),
	LayerGather:            reflect.TypeFor[GatherLayer](),
	LayerMatrixMultiply:    reflect.TypeFor[MatrixMultiplyLayer](),
	LayerRaggedSoftMax:     reflect.TypeFor[RaggedSoftMaxLayer](),
	LayerConstant:          reflect.TypeFor[ConstantLayer](),
	LayerIdentity:          reflect.TypeFor[IdentityLayer](),
	LayerSlice:             reflect.TypeFor[SliceLayer](),
	LayerShape:             reflect.TypeFor[ShapeLayer](),
	LayerParametricReLU:    reflect.TypeFor[ParametricReLULayer](),
	LayerResize:            reflect.TypeFor[ResizeLayer](),
	LayerTripLimit:         reflect.TypeFor[TripLimitLayer](),
	LayerRecurrence:        reflect.TypeFor[RecurrenceLayer](),
	LayerIterator:          reflect.TypeFor[IteratorLayer](),
	LayerLoopOutput:        reflect.TypeFor[LoopOutputLayer](),
	LayerSelect:            reflect.TypeFor[SelectLayer](),
	LayerFill:              reflect.TypeFor[FillLayer](),
	LayerQuantize:          reflect.TypeFor[QuantizeLayer](),
	LayerDequantize:        reflect.TypeFor[DequantizeLayer](),
	LayerCondition:         reflect.TypeFor[ConditionLayer](),
	LayerConditionalInput:  reflect.TypeFor[ConditionalInputLayer](),
	LayerConditionalOutput: reflect.TypeFor[ConditionalOutputLayer](),
	LayerScatter:           reflect.TypeFor[ScatterLayer](),
	LayerEinsum:            reflect.TypeFor[EinsumLayer](),
	LayerAssertion:         reflect.TypeFor[AssertionLayer](),
	LayerOneHot:            reflect.TypeFor[OneHotLayer](),
	LayerNonZero:           reflect.TypeFor[NonZeroLayer](),
	LayerGridSample:        reflect.TypeFor[GridSampleLayer](),
	LayerNMS:               reflect.TypeFor[NMSLayer](),
	LayerReverseSequence:   reflect.TypeFor[ReverseSequenceLayer](),
	LayerNormalization:     reflect.TypeFor[NormalizationLayer](),
	LayerSqueeze:           reflect.TypeFor[SqueezeLayer](),
	LayerUnsqueeze:         reflect.TypeFor[UnsqueezeLayer](),
	LayerCumulative:        reflect.TypeFor[CumulativeLayer](),
	LayerDynamicQuantize:   reflect.TypeFor[DynamicQuantizeLayer](),
	LayerAttention:         reflect.TypeFor[AttentionLayer](),
	LayerRotaryEmbedding:   reflect.TypeFor[RotaryEmbeddingLayer](),
	LayerKVCacheUpdate:     reflect.TypeFor[KVCacheUpdateLayer](),
}

// layerIO is what each kind's Add* method gives a layer: the number of
// required inputs, the number SetInput accepts, and the number of outputs;
// -1 where it depends on the call (a concatenation's input list, a
// plugin's declared outputs). The decoder holds layers to it, because a
// layer's inference reads its required inputs and writes its outputs
// without checking their count; the encoder checks every layer against it,
// so a stale entry fails the encoding tests.
var layerIO = [numLayerTypes]struct{ required, max, outputs int }{
	LayerConvolution:       {1, 3, 1},
	LayerCast:              {1, 1, 1},
	LayerActivation:        {1, 1, 1},
	LayerPooling:           {1, 1, 1},
	LayerLRN:               {1, 1, 1},
	LayerScale:             {1, 1, 1},
	LayerSoftMax:           {1, 1, 1},
	LayerDeconvolution:     {1, 3, 1},
	LayerConcatenation:     {-1, -1, 1},
	LayerElementWise:       {2, 2, 1},
	LayerPlugin:            {-1, -1, -1},
	LayerUnary:             {1, 1, 1},
	LayerPadding:           {1, 1, 1},
	LayerShuffle:           {1, 2, 1},
	LayerReduce:            {1, 1, 1},
	LayerTopK:              {1, 2, 2},
	LayerGather:            {2, 2, 1},
	LayerMatrixMultiply:    {2, 2, 1},
	LayerRaggedSoftMax:     {2, 2, 1},
	LayerConstant:          {0, 0, 1},
	LayerIdentity:          {1, 1, 1},
	LayerSlice:             {1, 6, 1},
	LayerShape:             {1, 1, 1},
	LayerParametricReLU:    {2, 2, 1},
	LayerResize:            {1, 2, 1},
	LayerTripLimit:         {1, 1, 0},
	LayerRecurrence:        {1, 1, 1},
	LayerIterator:          {1, 1, 1},
	LayerLoopOutput:        {1, 2, 1},
	LayerSelect:            {3, 3, 1},
	LayerFill:              {0, 3, 1},
	LayerQuantize:          {2, 3, 1},
	LayerDequantize:        {2, 3, 1},
	LayerCondition:         {1, 1, 0},
	LayerConditionalInput:  {1, 1, 1},
	LayerConditionalOutput: {2, 2, 1},
	LayerScatter:           {3, 3, 1},
	LayerEinsum:            {-1, -1, 1},
	LayerAssertion:         {1, 1, 0},
	LayerOneHot:            {3, 3, 1},
	LayerNonZero:           {1, 1, 1},
	LayerGridSample:        {2, 2, 1},
	LayerNMS:               {3, 5, 2},
	LayerReverseSequence:   {2, 2, 1},
	LayerNormalization:     {3, 3, 1},
	LayerSqueeze:           {2, 2, 1},
	LayerUnsqueeze:         {2, 2, 1},
	LayerCumulative:        {2, 2, 1},
	LayerDynamicQuantize:   {1, 2, 2},
	LayerAttention:         {3, 7, 1},
	LayerRotaryEmbedding:   {3, 4, 1},
	LayerKVCacheUpdate:     {3, 4, 1},
}

// The fields of the bookkeeping structs that the encoding writes by hand or
// that are derived when a network is rebuilt. A field added to one of these
// structs is a schema error until it is listed here (and encoded, if it is
// not derived), so it cannot be dropped silently.
var knownFields = map[reflect.Type]string{
	reflect.TypeFor[layerBase]():     "net self kind index name loc inputs outputs nbRequired maxInputs problems",
	reflect.TypeFor[Tensor]():        "net id name dtype dims producer outIndex isInput isOutput bad values",
	reflect.TypeFor[Network]():       "name layers tensors inputs outputs callErrs staleFrom dirty refreshing forwardRefs regionCopies",
	reflect.TypeFor[Loop]():          "net name boundary",
	reflect.TypeFor[IfConditional](): "net name boundary",
	reflect.TypeFor[Weights]():       "t",
}

// fieldCodec is one parameter field of a layer struct.
type fieldCodec struct {
	path  string // "convParams.spatialWindow.sp.stride"
	index []int  // for reflect.Value.FieldByIndex
	enc   func(e *encoder, v reflect.Value) error
	dec   func(d *decoder, v reflect.Value)
}

// layerSchema is the field list of one layer kind.
type layerSchema struct {
	typ    reflect.Type
	fields []fieldCodec
}

var (
	schemas         [numLayerTypes]layerSchema
	schemaErr       error
	encodingVersion string
)

var (
	weightsType   = reflect.TypeFor[Weights]()
	tensorPtrType = reflect.TypeFor[*Tensor]()
	loopPtrType   = reflect.TypeFor[*Loop]()
	condPtrType   = reflect.TypeFor[*IfConditional]()
	basePtrType   = reflect.TypeFor[*layerBase]()
	pluginType    = reflect.TypeFor[Plugin]()
	hostPtrType   = reflect.TypeFor[*tensor.Tensor]()
)

func init() {
	var desc strings.Builder
	fmt.Fprintf(&desc, "trtc network encoding format %d\n", formatVersion)
	var errs []string
	for typ, want := range knownFields {
		var got []string
		for i := 0; i < typ.NumField(); i++ {
			got = append(got, typ.Field(i).Name)
		}
		if g := strings.Join(got, " "); g != want {
			errs = append(errs, fmt.Sprintf("%v has fields %q; the encoding knows %q: encode the new field (encode.go) and update knownFields", typ, g, want))
		}
	}
	if f, ok := weightsType.FieldByName("t"); !ok || f.Type != hostPtrType {
		errs = append(errs, "Weights no longer holds its values in field t *tensor.Tensor")
	}
	for k := LayerType(0); k < numLayerTypes; k++ {
		typ := layerStructs[k]
		if typ == nil {
			errs = append(errs, fmt.Sprintf("layer kind %v has no struct in layerStructs", k))
			continue
		}
		io := layerIO[k]
		fmt.Fprintf(&desc, "kind %d %v %v io %d %d %d\n", int(k), k, typ, io.required, io.max, io.outputs)
		s := layerSchema{typ: typ}
		if err := s.walk(typ, nil, ""); err != nil {
			errs = append(errs, fmt.Sprintf("%v: %v", typ.Name(), err))
		}
		for _, f := range s.fields {
			sf := typ.FieldByIndex(f.index)
			fmt.Fprintf(&desc, "  %s %v\n", f.path, sf.Type)
		}
		schemas[k] = s
	}
	// Data types are encoded by their value.
	for dt := DataType(0); dt < 64; dt++ {
		if dt.Valid() {
			fmt.Fprintf(&desc, "dtype %d %v\n", int(dt), dt)
		}
	}
	if len(errs) > 0 {
		schemaErr = fmt.Errorf("dsl: the network encoding cannot represent every layer: %s", strings.Join(errs, "; "))
	}
	sum := sha256.Sum256([]byte(desc.String()))
	encodingVersion = fmt.Sprintf("%d-%x", formatVersion, sum[:8])
}

// walk appends the leaf fields of struct typ to s. Embedded and named
// structs are flattened with their field name as a path element; the
// layerBase is written by hand; the spatial window's owner pointer is
// fixed up when the layer is rebuilt.
func (s *layerSchema) walk(typ reflect.Type, index []int, prefix string) error {
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		idx := append(append([]int{}, index...), i)
		path := prefix + f.Name
		switch {
		case f.Type == reflect.TypeFor[layerBase]() && f.Anonymous && prefix == "":
			continue
		case f.Type == basePtrType:
			if typ != reflect.TypeFor[spatialWindow]() || f.Name != "owner" {
				return fmt.Errorf("field %s: a *layerBase other than spatialWindow.owner is not rebuilt by CopyLayer", path)
			}
			continue
		case f.Type.Kind() == reflect.Struct && f.Type != weightsType:
			if err := s.walk(f.Type, idx, path+"."); err != nil {
				return err
			}
			continue
		}
		enc, dec, err := codecFor(f.Type, typ)
		if err != nil {
			return fmt.Errorf("field %s: %v", path, err)
		}
		s.fields = append(s.fields, fieldCodec{path: path, index: idx, enc: enc, dec: dec})
	}
	return nil
}

// codecFor returns the encoder and decoder of a value of type t, found in
// a field of struct parent (nil for plugin attributes).
func codecFor(t, parent reflect.Type) (func(*encoder, reflect.Value) error, func(*decoder, reflect.Value), error) {
	switch t {
	case weightsType:
		return encWeightsField, decWeightsField, nil
	case tensorPtrType:
		return encTensorField, decTensorField, nil
	case loopPtrType:
		if parent != reflect.TypeFor[loopBoundary]() {
			return nil, nil, fmt.Errorf("a *Loop outside loopBoundary is not rebuilt by CopyLayer")
		}
		return encRegionField, decRegionField(regionLoop), nil
	case condPtrType:
		if parent != reflect.TypeFor[condBoundary]() {
			return nil, nil, fmt.Errorf("an *IfConditional outside condBoundary is not rebuilt by CopyLayer")
		}
		return encRegionField, decRegionField(regionCond), nil
	case pluginType:
		return encPluginField, decPluginField, nil
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return encInt, decInt, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return encUint, decUint, nil
	case reflect.Bool:
		return encBool, decBool, nil
	case reflect.Float32:
		return encFloat32, decFloat32, nil
	case reflect.Float64:
		return encFloat64, decFloat64, nil
	case reflect.String:
		return encString, decString, nil
	case reflect.Slice, reflect.Array:
		switch t.Elem().Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
			reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Bool, reflect.Float32, reflect.Float64, reflect.String:
		default:
			return nil, nil, fmt.Errorf("type %v: only slices and arrays of numbers, bools and strings are encoded", t)
		}
		ee, de, err := codecFor(t.Elem(), parent)
		if err != nil {
			return nil, nil, err
		}
		if t.Kind() == reflect.Array {
			return encArray(ee), decArray(de), nil
		}
		return encSlice(ee), decSlice(de), nil
	}
	return nil, nil, fmt.Errorf("type %v has no codec in the network encoding (add one to codecFor)", t)
}

// EncodingVersion is a fingerprint of the encoding's schema: the format
// version and a hash of every layer struct's parameter fields (path and
// type), the numbering of layer kinds and data types, and each kind's
// input and output counts, computed by reflection at init. An engine records it next to an encoded network and
// refuses to load one encoded under another, so that a field added,
// removed or retyped is reported as an incompatible engine instead of being
// misread. DecodeNetwork checks the copy held in the bytes too.
func EncodingVersion() string { return encodingVersion }
