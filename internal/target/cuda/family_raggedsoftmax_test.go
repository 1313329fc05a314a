package cuda

import (
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

func TestRaggedSoftMaxFamilyLowers(t *testing.T) {
	requireOnGPU(t, "reduce", dsl.LayerRaggedSoftMax)
}

// TestRaggedSoftMaxFamily plans and writes the kernel for every float
// type (with NVRTC they compile) and checks the plan's shape error and
// the fault's words.
func TestRaggedSoftMaxFamily(t *testing.T) {
	all := map[string]string{}
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16} {
		net := dsl.NewNetwork()
		x := net.AddInput("x", dt, dsl.Dims{2, 3, 7})
		rs := net.AddRaggedSoftMax(x, net.AddInput("bounds", dsl.Int32, dsl.Dims{2, 3, 1}))
		familyNet(t, net, rs)
		src, srcs := familyKernel(t, net, rs)
		if !strings.Contains(src, "trtc_fault(fault, r, len)") {
			t.Errorf("%v: no length check:\n%s", dt, src)
		}
		m, g, err := familyOf(rs).plan(rs, familyStaticValues(net))
		if err != nil || !slices.Equal(m, []int64{7}) || g.n != 6 {
			t.Errorf("%v: plan meta %v, launch %+v, %v; want [7] over 6 rows", dt, m, g, err)
		}
		bad := familyStaticValues(net)
		bad.dims[rs.Input(1)] = []int64{2, 2, 1}
		_, _, err = familyOf(rs).plan(rs, bad)
		wantCode(t, err, diag.ShapeMismatch, "want bounds [2,3,1]")
		ferr := familyOf(rs).fault(rs, familyStaticValues(net), 4, 9)
		if ferr == nil || ferr.Error() != "bounds[4] is 9; sequence lengths must be in [0, 7]" {
			t.Errorf("fault: %v", ferr)
		}
		for k, v := range srcs {
			all[k] = v
		}
	}
	compileWithNVRTC(t, all)
}
