package onnx

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() {
	for _, since := range []int64{9, 11, 22} {
		register(OpInfo{Op: "MaxUnpool", Since: since, Types: "float32, float16, bfloat16, int32, int64",
			Restrictions: "static input shape"}, importMaxUnpool)
	}
}

// importMaxUnpool scatters X into zeros at the flat output positions I
// (as MaxPool's Indices give them), with a ScatterND on the flattened
// output.
func importMaxUnpool(c *nodeCtx) ([]*dsl.Tensor, error) {
	if err := c.Require(2); err != nil {
		return nil, err
	}
	x, idx := c.Input(0), c.Input(1)
	r := x.Rank()
	if r < 3 {
		return nil, c.Errorf(diag.ShapeMismatch, "MaxUnpool input has dims %v; want (N, C, spatial...)", x.Dims())
	}
	if !c.HasAttr("kernel_shape") {
		return nil, c.Errorf(diag.UnsupportedAttr, "attribute kernel_shape is required")
	}
	sp, err := c.nnSpatialAttrs(r-2, nil)
	if err != nil {
		return nil, err
	}
	d := x.Dims()
	if !d.IsStatic() {
		return nil, c.Errorf(diag.UnsupportedAttr, "MaxUnpool needs a static input shape; the input has %v", d)
	}
	// The indices address the unpooled shape inferred from the window;
	// a larger output_shape adds zeros after each spatial dim.
	inferred := []int64{d[0], d[1]}
	for i := range r - 2 {
		inferred = append(inferred, (d[2+i]-1)*sp.strides[i]+sp.kernel[i]-sp.pre[i]-sp.post[i])
	}
	zeros := c.Constant(tensor.New(x.Type(), tensor.Volume(inferred)))
	flatIdx := c.nnReshape(idx, -1, 1)
	if flatIdx.Type() != dsl.Int64 && flatIdx.Type() != dsl.Int32 {
		flatIdx = c.Net().AddCast(flatIdx, dsl.Int64).Output(0)
	}
	y := c.Net().AddScatter(zeros, flatIdx, c.nnReshape(x, -1), dsl.ScatterND).Output(0)
	y = c.nnReshape(y, inferred...)
	if c.HasInput(2) {
		// Read the output shape from the origin with zero fill: the
		// coordinates past the inferred shape are zeros.
		shape := c.Input(2)
		if shape.Type() != dsl.Int64 && shape.Type() != dsl.Int32 {
			shape = c.Net().AddCast(shape, dsl.Int64).Output(0)
		}
		ones := make(dsl.Dims, r)
		for i := range ones {
			ones[i] = 1
		}
		l := c.Net().AddSlice(y, make(dsl.Dims, r), dsl.Dims(inferred), ones)
		l.SetMode(dsl.SampleFill)
		l.SetInput(2, shape)
		y = l.Output(0)
	}
	return []*dsl.Tensor{y}, nil
}
