package cuda

import (
	"github.com/trtc/trtc/dsl"
)

// builtIn are the layer kinds chooseKind lowers to a step of its own
// (not a kernel family), on the GPU for the types and modes it names.
var builtIn = map[dsl.LayerType]bool{
	dsl.LayerConstant: true, dsl.LayerShape: true, dsl.LayerSqueeze: true, dsl.LayerUnsqueeze: true,
	dsl.LayerIdentity: true, dsl.LayerElementWise: true, dsl.LayerUnary: true, dsl.LayerActivation: true,
	dsl.LayerCast: true, dsl.LayerSelect: true, dsl.LayerParametricReLU: true, dsl.LayerShuffle: true,
	dsl.LayerConcatenation: true, dsl.LayerSlice: true, dsl.LayerGather: true, dsl.LayerReduce: true,
	dsl.LayerSoftMax: true, dsl.LayerNormalization: true, dsl.LayerPooling: true,
	dsl.LayerMatrixMultiply: true, dsl.LayerConvolution: true,
}

// regionKinds are the boundary layers of loops and conditionals.
var regionKinds = map[dsl.LayerType]bool{
	dsl.LayerTripLimit: true, dsl.LayerRecurrence: true, dsl.LayerIterator: true, dsl.LayerLoopOutput: true,
	dsl.LayerCondition: true, dsl.LayerConditionalInput: true, dsl.LayerConditionalOutput: true,
}

// Support says where the CUDA target runs layers of kind k: "gpu" (a
// generated kernel, cuDNN or cuBLASLt; some types or modes of the kind
// may still run on the host, which the build summary names), "plugin"
// (the plugin's CUDA kernel where it has one, else its Go code on the
// host), "region" (the loop or conditional as engines of its parts on the
// GPU, devregion.go, or where a part does not lower, whole on the host
// with the CPU engine), or "host"
// (the CPU engine's kernel, with copies in and out).
func Support(k dsl.LayerType) string {
	switch {
	case k == dsl.LayerPlugin:
		return "plugin"
	case regionKinds[k]:
		return "region"
	case builtIn[k] || families[k] != nil || counters[k] != nil:
		return "gpu"
	}
	return "host"
}
