package cuda

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// TestScaleKernel: a kernel for every float type and mode; the metadata
// gives each element the CPU engine's coefficient (i / inner) % count
// and packs the coefficient sets present, two float32 to an int64.
func TestScaleKernel(t *testing.T) {
	srcs := map[string]string{}
	defer compileAll(t, srcs)
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16} {
		net := dsl.NewNetwork()
		x := net.AddInput("x", dt, dsl.Dims{2, 3, 2, 2})
		c := net.AddScale(x, dsl.ScaleChannel, dsl.Float32Weights(1, 2, 3), dsl.Weights{}, dsl.Float32Weights(4, 5, 6))
		u := net.AddScaleNd(x, dsl.ScaleUniform, dsl.Weights{}, dsl.Float32Weights(0.5), dsl.Weights{}, 1)
		e := net.AddScaleNd(x, dsl.ScaleElementwise, dsl.Weights{}, dsl.Float32Weights(1, 2, 3, 4), dsl.Weights{}, 2)
		outs(net, c, u, e)
		lowerOnGPU(t, net, dsl.LayerScale, srcs)
		d := map[*dsl.Tensor][]int64{x: {2, 3, 2, 2}}
		m, _, err := scalePlan(c, shapeValues{dims: d})
		if err != nil {
			t.Fatal(err)
		}
		w := func(k int64) float32 {
			return math.Float32frombits(uint32(uint64(m[scaleMetaHead+k/2]) >> (32 * (k % 2))))
		}
		if m[0] != 4 || m[1] != 3 || m[2] != 0 || m[3] != -1 || m[4] != 3 || w(0) != 1 || w(2) != 3 || w(3) != 4 || w(5) != 6 {
			t.Errorf("channel meta %v", m)
		}
		if m, _, _ := scalePlan(u, shapeValues{dims: d}); m[0] != 1 || m[1] != 1 || m[2] != -1 || m[3] != 0 || m[4] != -1 {
			t.Errorf("uniform meta %v", m)
		}
		if m, _, _ := scalePlan(e, shapeValues{dims: d}); m[0] != 1 || m[1] != 4 || m[3] != 0 {
			t.Errorf("elementwise meta %v", m)
		}
	}
	// Dims known only at run time: weights that do not fit are a plan error.
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{1, -1, 2, 2})
	c := net.AddScale(x, dsl.ScaleChannel, dsl.Float32Weights(1, 2, 3), dsl.Weights{}, dsl.Weights{})
	net.MarkOutput(c.Output(0))
	if err := net.Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := scalePlan(c, shapeValues{dims: map[*dsl.Tensor][]int64{x: {1, 4, 2, 2}}}); !errors.Is(err, diag.ShapeMismatch) || !strings.Contains(err.Error(), "Channel mode needs 4 shift weights, the layer has 3") {
		t.Errorf("3 channel weights for 4 channels: %v", err)
	}
}

func outs(net *dsl.Network, ls ...dsl.Layer) {
	for _, l := range ls {
		net.MarkOutput(l.Output(0))
	}
}
