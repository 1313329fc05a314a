package dsl

import (
	"math"
	"reflect"
	"testing"

	"github.com/trtc/trtc/tensor"
)

func TestSameParams(t *testing.T) {
	n := NewNetwork()
	x := n.AddInput("x", Float32, Dims{1, 2, 4, 4})
	kernel := func() Weights { return Float32Weights(1, 2, 3, 4, 5, 6, 7, 8) } // a fresh tensor each time
	conv := func(stride int64, k Weights) Layer {
		l := n.AddConvolutionNd(x, 2, Dims{1, 1}, k, Weights{})
		l.SetStrideNd(Dims{stride, stride})
		return l
	}
	act := func(a ActivationType, alpha float32) Layer {
		l := n.AddActivation(x, a)
		l.SetAlpha(alpha)
		return l
	}
	shuffle := func(reshape Dims, perm Permutation) Layer {
		l := n.AddShuffle(n.AddConstant(Dims{1}, Float32Weights(1)).Output(0))
		if reshape != nil {
			l.SetReshapeDimensions(reshape)
		}
		if perm != nil {
			l.SetFirstTranspose(perm)
		}
		return l
	}
	lp := n.AddLoop()
	lp.AddTripLimit(n.AddConstant(Dims{}, Int64Weights(2)).Output(0), TripLimitCount)
	rec := lp.AddRecurrence(x)
	rec.SetInput(1, rec.Output(0))
	lp2 := n.AddLoop()
	lp2.AddTripLimit(n.AddConstant(Dims{}, Int64Weights(2)).Output(0), TripLimitCount)
	rec2 := lp2.AddRecurrence(x)
	rec2.SetInput(1, rec2.Output(0))
	nan := float32(math.NaN())

	k := kernel()
	for _, c := range []struct {
		name string
		a, b Layer
		want bool
	}{
		{"conv, the same kernel tensor", conv(1, k), conv(1, k), true},
		{"conv, kernels equal by bytes", conv(1, kernel()), conv(1, kernel()), true},
		{"conv, kernels differ", conv(1, kernel()), conv(1, Float32Weights(1, 2, 3, 4, 5, 6, 7, 9)), false},
		{"conv, strides differ", conv(1, k), conv(2, k), false},
		{"activation, same", act(ActivationLeakyReLU, 0.1), act(ActivationLeakyReLU, 0.1), true},
		{"activation, alphas differ", act(ActivationLeakyReLU, 0.1), act(ActivationLeakyReLU, 0.2), false},
		{"activation, NaN alphas", act(ActivationLeakyReLU, nan), act(ActivationLeakyReLU, nan), true},
		{"activation, -0 and +0", act(ActivationLeakyReLU, 0), act(ActivationLeakyReLU, float32(math.Copysign(0, -1))), false},
		{"activation, kinds differ", act(ActivationReLU, 0), act(ActivationSigmoid, 0), false},
		{"layer kinds differ", act(ActivationReLU, 0), n.AddIdentity(x), false},
		{"constants, equal bytes", n.AddConstant(Dims{2}, Float32Weights(1, 2)), n.AddConstant(Dims{2}, Float32Weights(1, 2)), true},
		{"constants, types differ", n.AddConstant(Dims{2}, Int32Weights(1, 2)), n.AddConstant(Dims{2}, Float32Weights(1, 2)), false},
		{"constants, dims differ", n.AddConstant(Dims{2}, Float32Weights(1, 2)), n.AddConstant(Dims{2, 1}, Float32Weights(1, 2)), false},
		{"shuffle, no reshape and reshape to a scalar", shuffle(nil, nil), shuffle(Dims{}, nil), false},
		{"shuffle, same reshape", shuffle(Dims{1, 1}, nil), shuffle(Dims{1, 1}, nil), true},
		{"shuffle, nil and explicit identity transpose", shuffle(nil, nil), shuffle(nil, Permutation{0}), false},
		{"recurrences of two loops", rec, rec2, false},
		{"a recurrence and itself", rec, rec, true},
		{"identities", n.AddIdentity(x), n.AddIdentity(x), true},
	} {
		if got := SameParams(c.a, c.b); got != c.want {
			t.Errorf("%s: SameParams = %v, want %v", c.name, got, c.want)
		}
		if got := SameParams(c.b, c.a); got != c.want {
			t.Errorf("%s (swapped): SameParams = %v, want %v", c.name, got, c.want)
		}
	}
	if SameParams(nil, rec) || SameParams(rec, nil) {
		t.Errorf("SameParams with nil is true")
	}
}

// TestSameParamsKnowsEveryField walks the parameter fields of every layer
// struct: each must be of a kind sameValue compares. A new field of an
// unknown kind (a map, an interface) would make every pair of such layers
// differ, silently turning CSE off for the kind; this makes it loud.
func TestSameParamsKnowsEveryField(t *testing.T) {
	structs := []any{
		ConvolutionLayer{}, CastLayer{}, ActivationLayer{}, PoolingLayer{}, LRNLayer{}, ScaleLayer{},
		SoftMaxLayer{}, DeconvolutionLayer{}, ConcatenationLayer{}, ElementWiseLayer{}, UnaryLayer{},
		PaddingLayer{}, ShuffleLayer{}, ReduceLayer{}, TopKLayer{}, GatherLayer{}, MatrixMultiplyLayer{},
		RaggedSoftMaxLayer{}, ConstantLayer{}, IdentityLayer{}, SliceLayer{}, ShapeLayer{},
		ParametricReLULayer{}, ResizeLayer{}, SelectLayer{}, FillLayer{}, QuantizeLayer{},
		DequantizeLayer{}, ScatterLayer{}, EinsumLayer{}, AssertionLayer{}, OneHotLayer{}, NonZeroLayer{},
		GridSampleLayer{}, NMSLayer{}, ReverseSequenceLayer{}, NormalizationLayer{}, SqueezeLayer{},
		UnsqueezeLayer{}, CumulativeLayer{}, DynamicQuantizeLayer{}, AttentionLayer{},
		RotaryEmbeddingLayer{}, KVCacheUpdateLayer{},
	}
	var check func(path string, typ reflect.Type)
	check = func(path string, typ reflect.Type) {
		switch typ {
		case weightsValType, hostTensorType, layerBasePtrType:
			return
		}
		switch typ.Kind() {
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64, reflect.String:
		case reflect.Struct:
			for i := 0; i < typ.NumField(); i++ {
				if f := typ.Field(i); f.Type != layerBaseType {
					check(path+"."+f.Name, f.Type)
				}
			}
		case reflect.Array, reflect.Slice:
			check(path+"[]", typ.Elem())
		default:
			t.Errorf("%s: a field of kind %v, which SameParams treats as always different", path, typ.Kind())
		}
	}
	for _, s := range structs {
		check(reflect.TypeOf(s).Name(), reflect.TypeOf(s))
	}
	if len(structs)+8 != int(numLayerTypes) { // plugin and the 7 region boundary kinds are identities
		t.Errorf("%d layer structs checked; a layer kind was added: list it here", len(structs))
	}
	// The host tensor's own fields are compared by the same walk.
	check("tensor.Tensor", reflect.TypeFor[tensor.Tensor]())
}
