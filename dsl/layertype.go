package dsl

import "fmt"

// LayerType is the kind of a layer, one per TensorRT nvinfer1::LayerType.
type LayerType int

// The layer kinds, in TensorRT's order, with what they compute.
const (
	LayerConvolution       LayerType = iota // N-d convolution with groups and dilation
	LayerCast                               // element type conversion
	LayerActivation                         // pointwise activation function
	LayerPooling                            // max / average / blended pooling, N-d
	LayerLRN                                // local response normalization across channels
	LayerScale                              // (x*scale + shift)^power per tensor, channel or element
	LayerSoftMax                            // softmax along one axis
	LayerDeconvolution                      // N-d transposed convolution
	LayerConcatenation                      // concatenation along one axis
	LayerElementWise                        // binary pointwise op with broadcasting
	LayerPlugin                             // a registered plugin (trtc plugins; TensorRT IPluginV3)
	LayerUnary                              // unary pointwise op
	LayerPadding                            // constant zero padding of the two innermost dims (legacy)
	LayerShuffle                            // transpose, reshape, transpose
	LayerReduce                             // reduction over a set of axes
	LayerTopK                               // k largest or smallest along one axis, with indices
	LayerGather                             // gather: default, element-wise, or N-d
	LayerMatrixMultiply                     // batched matrix product with transpose / vector operands
	LayerRaggedSoftMax                      // softmax over variable-length segments
	LayerConstant                           // a tensor of weights
	LayerIdentity                           // copy (or cast between types)
	LayerSlice                              // strided slice with out-of-bounds modes
	LayerShape                              // the shape of a tensor as an Int64 vector
	LayerParametricReLU                     // x>=0 ? x : slope*x, slope broadcast
	LayerResize                             // nearest / linear / cubic resampling
	LayerTripLimit                          // loop trip count or while-condition
	LayerRecurrence                         // loop-carried value
	LayerIterator                           // loop iteration over an axis of a tensor
	LayerLoopOutput                         // value leaving a loop (last value or concatenation)
	LayerSelect                             // cond ? a : b with broadcasting
	LayerFill                               // tensor filled by a generator (linspace, random)
	LayerQuantize                           // float to quantized int8/fp8/int4 with scale and zero point
	LayerDequantize                         // quantized to float with scale and zero point
	LayerCondition                          // the boolean that selects a branch of an if-conditional
	LayerConditionalInput                   // a value entering an if-conditional
	LayerConditionalOutput                  // the value leaving an if-conditional (one per branch pair)
	LayerScatter                            // scatter: default (ND), element
	LayerEinsum                             // Einstein summation
	LayerAssertion                          // fail at run time when a condition is false
	LayerOneHot                             // one-hot encoding of indices
	LayerNonZero                            // indices of non-zero elements
	LayerGridSample                         // sample an input at grid coordinates
	LayerNMS                                // non-maximum suppression
	LayerReverseSequence                    // reverse variable-length prefixes of sequences
	LayerNormalization                      // layer / instance / group normalization
	LayerSqueeze                            // remove unit dims
	LayerUnsqueeze                          // insert unit dims
	LayerCumulative                         // cumulative sum (or other op) along an axis
	LayerDynamicQuantize                    // block-wise quantization with computed scales
	LayerAttention                          // fused scaled dot-product attention (TensorRT IAttention)
	LayerRotaryEmbedding                    // rotary position embedding
	LayerKVCacheUpdate                      // write new keys/values into a KV cache
	numLayerTypes
)

var layerTypeNames = [...]string{
	"Convolution", "Cast", "Activation", "Pooling", "LRN", "Scale", "SoftMax", "Deconvolution",
	"Concatenation", "ElementWise", "Plugin", "Unary", "Padding", "Shuffle", "Reduce", "TopK",
	"Gather", "MatrixMultiply", "RaggedSoftMax", "Constant", "Identity", "Slice", "Shape",
	"ParametricReLU", "Resize", "TripLimit", "Recurrence", "Iterator", "LoopOutput", "Select",
	"Fill", "Quantize", "Dequantize", "Condition", "ConditionalInput", "ConditionalOutput",
	"Scatter", "Einsum", "Assertion", "OneHot", "NonZero", "GridSample", "NMS", "ReverseSequence",
	"Normalization", "Squeeze", "Unsqueeze", "Cumulative", "DynamicQuantize", "Attention",
	"RotaryEmbedding", "KVCacheUpdate",
}

func (t LayerType) String() string {
	if t >= 0 && t < numLayerTypes {
		return layerTypeNames[t]
	}
	return fmt.Sprintf("LayerType(%d)", int(t))
}

// AllLayerTypes lists every layer kind, for tests and support matrices.
func AllLayerTypes() []LayerType {
	out := make([]LayerType, numLayerTypes)
	for i := range out {
		out[i] = LayerType(i)
	}
	return out
}

// Every LayerType has a name: this fails to compile when the two lists drift.
var _ = [1]struct{}{}[len(layerTypeNames)-int(numLayerTypes)]
