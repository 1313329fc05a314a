package cpu

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

func init() { register(dsl.LayerPlugin, runPlugin) }

// runPlugin calls the plugin's Go implementation and checks that what it
// returns is what it promised: the count, and each output's type and shape
// as OutputTypes and OutputDims give them for the actual input shapes.
func runPlugin(x *execCtx, l dsl.Layer, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	p := l.(*dsl.PluginLayer).Plugin()
	id := dsl.PluginID(p)
	out, err := p.ExecuteCPU(in)
	if err != nil {
		return nil, layerErr(l, diag.InvalidNode, "%s failed: %v", id, err)
	}
	if len(out) != l.NbOutputs() {
		return nil, layerErr(l, diag.InvalidNode, "%s returned %d outputs, it declares %d", id, len(out), l.NbOutputs())
	}
	dims := make([]dsl.Dims, len(in))
	for i, v := range in {
		dims[i] = v.Shape()
	}
	want, err := p.OutputDims(dims)
	if err != nil || len(want) != len(out) {
		return nil, layerErr(l, diag.InvalidNode, "%s: OutputDims fails on the run time shapes %v: %v", id, dims, err)
	}
	for i, v := range out {
		switch {
		case v == nil:
			return nil, layerErr(l, diag.InvalidNode, "%s returned a nil output %d", id, i)
		case v.DType() != l.Output(i).Type():
			return nil, layerErr(l, diag.InvalidNode, "%s returned output %d as %v, it declared %v", id, i, v.DType(), l.Output(i).Type())
		case !sameShape(v.Shape(), want[i]):
			return nil, layerErr(l, diag.InvalidNode, "%s returned output %d with shape %v, OutputDims gives %v", id, i, v.Shape(), want[i])
		}
	}
	return out, nil
}
