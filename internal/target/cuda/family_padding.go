package cuda

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Padding: zeros around the two innermost dims; a negative amount crops
// that many elements from its edge. Each output element reads the input
// element shifted back by the pre-padding, or is zero where that lies
// outside the input. Elements move as their bits (zero is all-zero bits
// in every type, as the CPU engine's byte copy assumes).
//
// Meta: [H, W, OH, OW, pre H, pre W].
func init() {
	registerFamily(dsl.LayerPadding, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			if _, ok := wholeBytes(l.Input(0).Type()); !ok {
				return false, "no padding kernel for " + l.Input(0).Type().String()
			}
			return true, ""
		},
		source: paddingKernel,
		plan:   paddingPlan,
	})
}

func paddingKernel(name string, l dsl.Layer) (string, bool) {
	t, ok := wholeBytes(l.Input(0).Type())
	if !ok {
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ in) {
  i64 H = m[0], W = m[1], OH = m[2], OW = m[3], ph = m[4], pw = m[5];
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 ow = i %% OW, t = i / OW;
    i64 oh = t %% OH, p = t / OH;
    i64 h = oh - ph, w = ow - pw;
    out[i] = (h >= 0 && h < H && w >= 0 && w < W) ? in[(p * H + h) * W + w] : (%s)0;
  }
}
`, name, t, t, t), true
}

func paddingPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	pl := l.(*dsl.PaddingLayer)
	in, out := v.dims[l.Input(0)], v.dims[l.Output(0)]
	pre, post := pl.PrePaddingNd(), pl.PostPaddingNd()
	r := len(in)
	if r < 2 || len(pre) != 2 || len(post) != 2 || len(out) != r {
		return nil, launch{}, diag.Errorf(diag.InvalidNode, "%s: padding %v/%v of an input of dims %v", dsl.LayerString(l), pre, post, in)
	}
	H, W := in[r-2], in[r-1]
	OH, OW := H+pre[0]+post[0], W+pre[1]+post[1]
	if OH < 0 || OW < 0 {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: padding %v/%v crops more than the input %v has", dsl.LayerString(l), pre, post, in)
	}
	if out[r-2] != OH || out[r-1] != OW {
		return nil, launch{}, diag.Errorf(diag.Internal, "%s: padding %v/%v of %v is not the planned output %v", dsl.LayerString(l), pre, post, in, out)
	}
	n := volume(out)
	return []int64{H, W, OH, OW, pre[0], pre[1]}, launch{n: n, grid: grid(n)}, nil
}
