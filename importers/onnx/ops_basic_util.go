package onnx

import "github.com/trtc/trtc/tensor"

// constantFromAttr turns a value_float/value_floats/value_int/value_ints
// attribute into a tensor (scalars are rank 0).
func constantFromAttr(c *nodeCtx, name string) *tensor.Tensor {
	var t *tensor.Tensor
	switch name {
	case "value_float":
		t, _ = tensor.FromFloat32(nil, []float32{c.AttrFloat(name, 0)})
	case "value_floats":
		v := append([]float32{}, c.AttrFloats(name, nil)...)
		t, _ = tensor.FromFloat32([]int64{int64(len(v))}, v)
	case "value_int":
		t, _ = tensor.FromInt64(nil, []int64{c.AttrInt(name, 0)})
	case "value_ints":
		v := append([]int64{}, c.AttrInts(name, nil)...)
		t, _ = tensor.FromInt64([]int64{int64(len(v))}, v)
	}
	return t
}
