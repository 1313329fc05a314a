package cuda

import (
	"github.com/trtc/trtc/dsl"
)

// A kernelFamily runs one layer kind as a generated kernel with a metadata
// array planned per shape plan. Each family lives in a file of its own and
// registers itself in init (registerFamily); lowering, planning and running
// find it by the layer's type. The kernels built in before families
// (pointwise, reductions, softmax, normalization, pooling) are not
// families: they take part in fusion, which families do not.
//
// A family's kernel has the signature
//
//	extern "C" __global__ void NAME(const i64* meta, i64 n, unsigned long long* fault,
//	    OUT0* out0, OUT1* out1, ..., const IN0* in0, const IN1* in1, ...)
//
// with every output of the layer, then every input that is not nil, in
// order (parameter tensors included, whether or not the kernel reads
// them), then the family's weights, if any (const W0* w0, ...); fault is
// the step's fault slot (see fault.go). It is launched with 256 threads a
// block on plan's grid.
type kernelFamily struct {
	// takes says whether the family runs l at all; nil takes every layer
	// of its type. A layer it does not take goes to the built-in lowering
	// (a slice in strict-bounds mode is a copy, other slice modes a family).
	takes func(l dsl.Layer) bool
	// lower says whether l runs as this family's kernel, and when not,
	// why (the layer then runs on the host with the CPU engine's kernel);
	// nil takes every layer source writes a kernel for (the others run on
	// the host with lowerNetwork's reason).
	lower func(l dsl.Layer) (ok bool, why string)
	// source writes the kernel named name for l; false when there is no
	// kernel for these types (the layer then runs on the host).
	source func(name string, l dsl.Layer) (string, bool)
	// plan is the kernel's metadata and launch for a shape plan: v.dims
	// holds every tensor's dims, v.values the values of the inputs that
	// params lists. An error names the layer and what is wrong (a
	// parameter out of range, say): the shape plan fails with it.
	plan func(l dsl.Layer, v shapeValues) ([]int64, launch, error)
	// params are the input indices whose values plan needs on the host
	// (a resize's sizes, a padding's amounts). A layer whose parameter
	// depends on data, not only on shapes, runs on the host.
	params []int
	// fault, for a kernel that checks indices from data, describes the
	// fault it recorded (trtc_fault) at element pos with value val, in
	// the words the CPU engine uses for the same input; nil for a kernel
	// that cannot fault (it gets a null fault pointer). The error becomes
	// an OutOfRange error naming the layer, unless it is a *diag.Error,
	// which is returned as it is (an assertion's AssertionFailed).
	fault func(l dsl.Layer, v shapeValues, pos, val int64) error
	// weights are constants the layer holds as attributes, not as input
	// tensors (a convolution's kernel and bias Weights): uploaded once
	// when the engine loads and passed to the kernel after its inputs,
	// in order, an empty one as a null pointer. nil: none.
	weights func(l dsl.Layer) []dsl.Weights
}

// shapeValues is what a family plans with: every tensor's dims and the
// values of the parameter tensors the families named.
type shapeValues struct {
	dims   map[*dsl.Tensor][]int64
	values map[*dsl.Tensor][]int64
}

var families = map[dsl.LayerType]*kernelFamily{}

// registerFamily adds the family of layer type k; a second family for the
// same type is a programming error.
func registerFamily(k dsl.LayerType, f *kernelFamily) {
	if _, dup := families[k]; dup {
		panic("cuda: two kernel families for " + k.String())
	}
	families[k] = f
}

// familyOf is the kernel family of l, or nil.
func familyOf(l dsl.Layer) *kernelFamily {
	f := families[l.Type()]
	if f == nil || f.takes != nil && !f.takes(l) {
		return nil
	}
	return f
}

// familyKind is chooseKind for a layer with a family.
func familyKind(f *kernelFamily, l dsl.Layer, dataDep map[*dsl.Tensor]bool) (kind, why string) {
	if f.lower != nil {
		if ok, why := f.lower(l); !ok {
			return kindHost, why
		}
	}
	for _, i := range f.params {
		if t := l.Input(i); t != nil && dataDep[t] {
			return kindHost, "parameters computed from data"
		}
	}
	return kindKernel, ""
}
