package autocast

import (
	"fmt"

	"github.com/trtc/trtc/dsl"
)

// class is how a layer kind takes part in autocast.
type class int

const (
	// classCompute layers do float arithmetic: they run in the requested
	// type unless their op is one that must stay in fp32 (keep).
	classCompute class = iota
	// classFollow layers move or select data without arithmetic: they run
	// in whatever type their float inputs arrive in, so a Shuffle between
	// two half layers stays half without a cast.
	classFollow
	// classExplicit layers carry their types as parameters (Cast, Q/DQ,
	// Fill): their inputs keep the network's declared types and their
	// outputs are what the layer says.
	classExplicit
	// classConstant layers are weights: converted at build time when every
	// consumer reads them in one half type.
	classConstant
	// classPlugin layers run in half only when their plugin accepts it.
	classPlugin
	// classAny layers accept any input type and compute no float values
	// (Cast, Shape, NonZero): they never need a cast in front of them.
	classAny
)

// rule is what autocast knows about one layer kind: its class, which
// inputs form the float group that shares the layer's compute type (every
// other input keeps its declared type), and for compute layers whether
// the op stays in fp32 and why.
type rule struct {
	class class
	// group lists the input indices that take the compute type; nil with
	// allInputs means every input.
	group     []int
	allInputs bool
	// keep returns a reason when l must stay in fp32, "" otherwise.
	keep func(l dsl.Layer) string
	// allowed restricts the half types a layer has a kernel for (nil: all).
	allowed []dsl.DataType
	// follows marks the compute layers of this kind that only compare or
	// test values (Bool outputs): they run in the type their inputs arrive
	// in, since rounding both sides to half could make x == y true.
	follows func(l dsl.Layer) bool
}

func always(reason string) func(dsl.Layer) string {
	return func(dsl.Layer) string { return reason }
}

// rules covers every layer kind. Region boundary layers (loops and
// conditionals) never reach it: everything inside a region keeps its
// types. The keep-fp32 set follows torch.autocast's fp32 list (softmax,
// norms, sum/prod/cumsum, exp/log/pow and the other ops that overflow or
// lose too much in half) and TensorRT's own choices (normalization
// statistics in fp32).
var rules = map[dsl.LayerType]rule{
	dsl.LayerConvolution:    {class: classCompute, group: []int{0, 1, 2}},
	dsl.LayerDeconvolution:  {class: classCompute, group: []int{0, 1, 2}},
	dsl.LayerActivation:     {class: classCompute, group: []int{0}, keep: keepActivation},
	dsl.LayerPooling:        {class: classCompute, group: []int{0}},
	dsl.LayerScale:          {class: classCompute, group: []int{0}},
	dsl.LayerElementWise:    {class: classCompute, group: []int{0, 1}, keep: keepElementWise, follows: isComparison},
	dsl.LayerUnary:          {class: classCompute, group: []int{0}, keep: keepUnary, follows: isTest},
	dsl.LayerMatrixMultiply: {class: classCompute, group: []int{0, 1}},
	dsl.LayerParametricReLU: {class: classCompute, group: []int{0, 1}},
	// TensorRT's Einsum takes fp32 and fp16 only.
	dsl.LayerEinsum: {class: classCompute, allInputs: true, allowed: []dsl.DataType{dsl.Float16}},
	// A fused attention kernel keeps its softmax statistics in fp32
	// internally (flash attention), so the layer runs in half.
	dsl.LayerAttention:       {class: classCompute, group: []int{dsl.AttentionInputQuery, dsl.AttentionInputKey, dsl.AttentionInputValue, dsl.AttentionInputMask}},
	dsl.LayerRotaryEmbedding: {class: classCompute, group: []int{0, 1, 2}},
	dsl.LayerReduce:          {class: classCompute, group: []int{0}, keep: keepReduce},
	dsl.LayerSoftMax:         {class: classCompute, group: []int{0}, keep: always("softmax kept in fp32")},
	dsl.LayerRaggedSoftMax:   {class: classCompute, group: []int{0}, keep: always("softmax kept in fp32")},
	dsl.LayerNormalization:   {class: classCompute, group: []int{0, 1, 2}, keep: always("normalization statistics kept in fp32")},
	dsl.LayerLRN:             {class: classCompute, group: []int{0}, keep: always("LRN statistics kept in fp32")},
	dsl.LayerCumulative:      {class: classCompute, group: []int{0}, keep: always("cumulative sum kept in fp32")},

	dsl.LayerConcatenation:   {class: classFollow, allInputs: true},
	dsl.LayerGather:          {class: classFollow, group: []int{0}},
	dsl.LayerShuffle:         {class: classFollow, group: []int{0}},
	dsl.LayerSlice:           {class: classFollow, group: []int{0, 4}}, // 4: the fill value
	dsl.LayerPadding:         {class: classFollow, group: []int{0}},
	dsl.LayerIdentity:        {class: classFollow, group: []int{0}},
	dsl.LayerSqueeze:         {class: classFollow, group: []int{0}},
	dsl.LayerUnsqueeze:       {class: classFollow, group: []int{0}},
	dsl.LayerSelect:          {class: classFollow, group: []int{1, 2}},
	dsl.LayerScatter:         {class: classFollow, group: []int{0, 2}},
	dsl.LayerOneHot:          {class: classFollow, group: []int{1}},
	dsl.LayerReverseSequence: {class: classFollow, group: []int{0}},
	dsl.LayerKVCacheUpdate:   {class: classFollow, group: []int{0, 1}},
	dsl.LayerResize:          {class: classFollow, group: []int{0}},
	dsl.LayerGridSample:      {class: classFollow, group: []int{0, 1}}, // torch.autocast: promote
	dsl.LayerTopK:            {class: classFollow, group: []int{0}},
	dsl.LayerNMS:             {class: classFollow, group: []int{0, 1}, allowed: []dsl.DataType{dsl.Float16}},

	dsl.LayerCast:     {class: classAny},
	dsl.LayerShape:    {class: classAny},
	dsl.LayerNonZero:  {class: classAny},
	dsl.LayerConstant: {class: classConstant},
	dsl.LayerPlugin:   {class: classPlugin},

	dsl.LayerQuantize:        {class: classExplicit},
	dsl.LayerDequantize:      {class: classExplicit},
	dsl.LayerDynamicQuantize: {class: classExplicit},
	dsl.LayerFill:            {class: classExplicit},
	dsl.LayerAssertion:       {class: classExplicit},
}

func ruleOf(l dsl.Layer) rule {
	if r, ok := rules[l.Type()]; ok {
		if r.follows != nil && r.follows(l) {
			r.class = classFollow
		}
		return r
	}
	// Region boundary layers and anything new: keep declared types.
	return rule{class: classExplicit}
}

// floatGroup returns the indices of l's group inputs that are set and
// hold a compute float type (Float32, Float16, BFloat16). Integer
// elementwise ops, integer reductions and the like have an empty group:
// they are not float computations.
func floatGroup(l dsl.Layer, r rule) []int {
	var idx []int
	if r.allInputs {
		for i := 0; i < l.NbInputs(); i++ {
			idx = append(idx, i)
		}
	} else {
		idx = r.group
	}
	if r.class == classPlugin {
		p := l.(*dsl.PluginLayer)
		idx = nil
		for i := 0; i < l.NbInputs()-p.NbShapeInputs(); i++ {
			idx = append(idx, i)
		}
	}
	var out []int
	for _, i := range idx {
		if t := l.Input(i); t != nil && isFloat(t.Type()) {
			out = append(out, i)
		}
	}
	return out
}

func isComparison(l dsl.Layer) bool { return l.(*dsl.ElementWiseLayer).Operation().IsComparison() }

func isTest(l dsl.Layer) bool { return l.(*dsl.UnaryLayer).Operation().ReturnsBool() }

func keepActivation(l dsl.Layer) string {
	if l.(*dsl.ActivationLayer).ActivationType() == dsl.ActivationSoftplus {
		return "softplus kept in fp32" // log(exp(x)+1) overflows in half
	}
	return ""
}

func keepElementWise(l dsl.Layer) string {
	if l.(*dsl.ElementWiseLayer).Operation() == dsl.ElementWisePow {
		return "pow kept in fp32"
	}
	return ""
}

// fp32Unary are the unary ops torch.autocast runs in fp32: exp and sinh/
// cosh overflow in half beyond ~11, log and reciprocal lose range near 0,
// tan and asin/acos are ill conditioned.
var fp32Unary = map[dsl.UnaryOperation]bool{
	dsl.UnaryExp: true, dsl.UnaryLog: true, dsl.UnaryRecip: true, dsl.UnaryTan: true,
	dsl.UnarySinh: true, dsl.UnaryCosh: true, dsl.UnaryAsin: true, dsl.UnaryAcos: true,
}

func keepUnary(l dsl.Layer) string {
	if op := l.(*dsl.UnaryLayer).Operation(); fp32Unary[op] {
		return fmt.Sprintf("%s kept in fp32", lower(op.String()))
	}
	return ""
}

// keepReduce keeps sums, means and products in fp32: they accumulate many
// terms, and half's 11-bit mantissa stops adding 1 to 2048. Max and min are
// exact in any type.
func keepReduce(l dsl.Layer) string {
	switch op := l.(*dsl.ReduceLayer).Operation(); op {
	case dsl.ReduceSum, dsl.ReduceAvg, dsl.ReduceProd:
		return fmt.Sprintf("%s reduction kept in fp32", lower(op.String()))
	}
	return ""
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// isFloat reports whether dt is a type layers compute in (fp8 is a
// quantized storage type, reached through Q/DQ).
func isFloat(dt dsl.DataType) bool {
	return dt == dsl.Float32 || dt == dsl.Float16 || dt == dsl.BFloat16
}

// isHalf reports whether dt is one of the 16-bit compute types.
func isHalf(dt dsl.DataType) bool { return dt == dsl.Float16 || dt == dsl.BFloat16 }

func allows(r rule, dt dsl.DataType) bool {
	if r.allowed == nil || !isHalf(dt) {
		return true
	}
	for _, a := range r.allowed {
		if a == dt {
			return true
		}
	}
	return false
}

// DescribePrecision names a type the way build logs and trtc inspect show
// precisions: "fp32", "fp16", "bf16", "fp8", "int8", ...
func DescribePrecision(dt dsl.DataType) string {
	switch dt {
	case dsl.Float32:
		return "fp32"
	case dsl.Float16:
		return "fp16"
	case dsl.BFloat16:
		return "bf16"
	case dsl.FP8E4M3:
		return "fp8"
	case dsl.Int8:
		return "int8"
	case dsl.UInt8:
		return "uint8"
	case dsl.Int32:
		return "int32"
	case dsl.Int64:
		return "int64"
	case dsl.Bool:
		return "bool"
	case dsl.Int4:
		return "int4"
	}
	return dt.String()
}
