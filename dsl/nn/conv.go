package nn

import (
	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Conv2dOptions are the settings of a 2-d convolution; zero values mean
// stride 1, no padding, dilation 1, one group.
type Conv2dOptions struct {
	Stride   [2]int64
	Padding  [2]int64
	Dilation [2]int64
	Groups   int64
}

// Conv2d adds a 2-d convolution of x ([N, C, H, W]) with weight [out,
// C/groups, kh, kw] and an optional bias [out] (PyTorch's nn.Conv2d).
func Conv2d(net *dsl.Network, x *dsl.Tensor, weight, bias dsl.Weights, opt Conv2dOptions) *dsl.Tensor {
	ws := weightShape(weight)
	if len(ws) != 4 {
		return net.Errorf(diag.InvalidArgument, "nn.Conv2d: weight must be 4-D [out, in/groups, kh, kw], got shape %v", ws)
	}
	l := net.AddConvolutionNd(x, ws[0], dsl.Dims{ws[2], ws[3]}, convert(net, weight, x.Type()), convert(net, bias, x.Type()))
	orDefault := func(v [2]int64, def int64) dsl.Dims {
		if v == [2]int64{} {
			return dsl.Dims{def, def}
		}
		return dsl.Dims{v[0], v[1]}
	}
	l.SetStrideNd(orDefault(opt.Stride, 1))
	l.SetPaddingNd(orDefault(opt.Padding, 0))
	l.SetDilationNd(orDefault(opt.Dilation, 1))
	if opt.Groups > 1 {
		l.SetNbGroups(opt.Groups)
	}
	return l.Output(0)
}
