package cuda

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
)

// TestIntegerArithmeticFamily: integer Div, FloorDiv and Pow run as the
// family's kernel (not fused: a fused kernel has no fault slot), planned
// with the pointwise broadcast metadata; float ones stay pointwise; a
// zero divisor's fault reads as the CPU engine's error; with NVRTC the
// kernels compile.
func TestIntegerArithmeticFamily(t *testing.T) {
	all := map[string]string{}
	for _, dt := range []dsl.DataType{dsl.Int32, dsl.Int64, dsl.Int8, dsl.UInt8} {
		for _, op := range []dsl.ElementWiseOperation{dsl.ElementWiseDiv, dsl.ElementWiseFloorDiv, dsl.ElementWisePow} {
			t.Run(fmt.Sprintf("%v/%v", dt, op), func(t *testing.T) {
				net := dsl.NewNetwork()
				a := net.AddInput("a", dt, dsl.Dims{3, 4})
				b := net.AddInput("b", dt, dsl.Dims{1, 4})
				e := net.AddElementWise(a, b, op)
				// A consumer that would fuse with a pointwise producer.
				y := net.AddElementWise(e.Output(0), a, dsl.ElementWiseSum)
				familyNet(t, net, y)
				src, srcs := familyKernel(t, net, e)
				if isPointwise(e) {
					t.Errorf("%s counts as pointwise: it would fuse", dsl.LayerString(e))
				}
				if strings.Contains(src, "trtc_fault") != (op != dsl.ElementWisePow) {
					t.Errorf("fault check in the kernel: %v, want %v:\n%s", strings.Contains(src, "trtc_fault"), op != dsl.ElementWisePow, src)
				}
				m, g, err := familyOf(e).plan(e, familyStaticValues(net))
				if want := broadcastMeta([]int64{3, 4}, [][]int64{{3, 4}, {1, 4}}); err != nil || !slices.Equal(m, want) || g.n != 12 {
					t.Errorf("plan: meta %v, launch %+v, %v; want %v over 12 elements", m, g, err, want)
				}
				for k, v := range srcs {
					all[k] = v
				}
			})
		}
	}
	net := dsl.NewNetwork()
	f := net.AddInput("f", dsl.Float32, dsl.Dims{4})
	fdiv := net.AddElementWise(f, f, dsl.ElementWiseDiv)
	if familyOf(fdiv) != nil || !isPointwise(fdiv) {
		t.Error("a float division runs as the integer family")
	}
	i := net.AddInput("i", dsl.Int32, dsl.Dims{4})
	idiv := net.AddElementWise(i, net.AddInput("d", dsl.Int32, dsl.Dims{4}), dsl.ElementWiseDiv)
	err := familyOf(idiv).fault(idiv, shapeValues{}, 2, 0)
	if err == nil || err.Error() != `integer division by zero at element 2 of "d"` {
		t.Errorf("fault: %v", err)
	}
	compileWithNVRTC(t, all)
}
