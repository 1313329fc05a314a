package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerConstant, runConstant) }

// runConstant returns the weights reshaped to the layer's dims, sharing
// their bytes: nothing writes to a layer's inputs or to weights.
func runConstant(_ *execCtx, l dsl.Layer, _ []*tensor.Tensor) ([]*tensor.Tensor, error) {
	c := l.(*dsl.ConstantLayer)
	dims := c.Dimensions()
	w := c.Weights().Tensor()
	if w == nil { // empty weights with a zero-volume shape
		return []*tensor.Tensor{tensor.New(c.Weights().Type(), dims...)}, nil
	}
	out, err := w.Reshape(dims...)
	if err != nil {
		return nil, layerErr(l, diag.Internal, "constant: %v", err)
	}
	return []*tensor.Tensor{out}, nil
}
