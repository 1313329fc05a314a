package cuda

import (
	"github.com/trtc/trtc/dsl"
)

// Deconvolution (transposed convolution), direct: one thread per output
// element gathers, for each kernel tap, the input position that the tap
// carries onto it (if any) and sums over the group's input channels,
// starting from the bias, in float as the CPU engine does. Every
// deconvolution runs here (there is no built-in path): 2-d and 3-d, with
// groups, dilation, strides, the padding the layer's Geometry resolves,
// and a kernel and bias from the layer's weights (kernelFamily.weights) or
// from inputs 1 and 2. The kernel and metadata are the convolution's
// (convKernel, convPlan).
func init() {
	registerFamily(dsl.LayerDeconvolution, &kernelFamily{
		lower:   func(l dsl.Layer) (bool, string) { return convLower(l.(convLike)) },
		source:  func(name string, l dsl.Layer) (string, bool) { return convKernel(name, l.(convLike), true) },
		plan:    func(l dsl.Layer, v shapeValues) ([]int64, launch, error) { return convPlan(l.(convLike), v, true) },
		weights: func(l dsl.Layer) []dsl.Weights { return convWeights(l.(convLike)) },
	})
}
