package cuda

import (
	"math"
	"testing"

	"github.com/trtc/trtc/dsl"
)

// TestLRNKernel: a kernel for every float type; the metadata holds the
// channel count, the spatial volume, the half window and alpha/window,
// beta, k as float64.
func TestLRNKernel(t *testing.T) {
	srcs := map[string]string{}
	defer compileAll(t, srcs)
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16} {
		net := dsl.NewNetwork()
		x := net.AddInput("x", dt, dsl.Dims{2, 7, 3, 5})
		l := net.AddLRN(x, 5, 1e-2, 0.75, 1.5)
		net.MarkOutput(l.Output(0))
		lowerOnGPU(t, net, dsl.LayerLRN, srcs)
		m, g, err := families[dsl.LayerLRN].plan(l, shapeValues{dims: map[*dsl.Tensor][]int64{x: {2, 7, 3, 5}}})
		if err != nil {
			t.Fatal(err)
		}
		f := func(i int) float64 { return math.Float64frombits(uint64(m[i])) }
		if m[0] != 7 || m[1] != 15 || m[2] != 2 || f(3) != float64(float32(1e-2))/5 || f(4) != 0.75 || f(5) != 1.5 || g.n != 210 {
			t.Errorf("meta %v launch %+v", m, g)
		}
	}
}
