package cuda

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

func TestRotaryAndKVCacheFamiliesLower(t *testing.T) {
	requireOnGPU(t, "transformer", dsl.LayerRotaryEmbedding)
	requireOnGPU(t, "transformer", dsl.LayerKVCacheUpdate)
}

// TestRotaryFamily plans and writes RoPE kernels with and without
// position ids, interleaved and half-split, for every float type (with
// NVRTC they compile), and checks the plan's shape errors and the fault's
// words.
func TestRotaryFamily(t *testing.T) {
	all := map[string]string{}
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16} {
		for _, withIDs := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/ids=%v", dt, withIDs), func(t *testing.T) {
				net := dsl.NewNetwork()
				x := net.AddInput("x", dt, dsl.Dims{2, 3, 5, 8})
				cacheDims := dsl.Dims{2, 5, 3}
				if withIDs {
					cacheDims = dsl.Dims{16, 3}
				}
				cs := net.AddInput("cos", dsl.Float32, cacheDims)
				sn := net.AddInput("sin", dsl.Float32, cacheDims)
				r := net.AddRotaryEmbedding(x, cs, sn, withIDs, 6)
				if withIDs {
					r.SetInput(3, net.AddInput("ids", dsl.Int64, dsl.Dims{2, 5}))
				}
				familyNet(t, net, r)
				src, srcs := familyKernel(t, net, r)
				if strings.Contains(src, "trtc_fault") != withIDs {
					t.Errorf("fault check %v, want %v:\n%s", strings.Contains(src, "trtc_fault"), withIDs, src)
				}
				m, g, err := familyOf(r).plan(r, familyStaticValues(net))
				inter := int64(0)
				if withIDs {
					inter = 1
				}
				if want := []int64{3, 5, 8, 3, inter, cacheDims[0]}; err != nil || !slices.Equal(m, want) || g.n != 240 {
					t.Errorf("plan: meta %v, launch %+v, %v; want %v over 240 elements", m, g, err, want)
				}
				for k, v := range srcs {
					all[k] = v
				}
			})
		}
	}
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float32, dsl.Dims{2, 3, -1, 8})
	cs := net.AddInput("cos", dsl.Float32, dsl.Dims{2, -1, 4})
	r := net.AddRotaryEmbedding(x, cs, net.AddInput("sin", dsl.Float32, dsl.Dims{2, -1, 4}), false, 0)
	dims := map[*dsl.Tensor][]int64{x: {2, 3, 5, 8}, cs: {2, 4, 4}, r.Input(2): {2, 4, 4}}
	_, _, err := familyOf(r).plan(r, shapeValues{dims: dims})
	wantCode(t, err, diag.ShapeMismatch, "caches [2 4 4] do not match batch 2 and sequence 5")
	ferr := familyOf(r).fault(r, shapeValues{dims: map[*dsl.Tensor][]int64{cs: {16, 3}}}, 7, 20)
	if ferr == nil || ferr.Error() != "position id 20 at index 7 is outside the cache rows [0, 16)" {
		t.Errorf("fault: %v", ferr)
	}
	kvKernels(t, all)
	compileWithNVRTC(t, all)
}

// kvKernels plans and writes KV cache updates of every float type and
// index type into all, and checks the plan's shape errors.
func kvKernels(t *testing.T, all map[string]string) {
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16} {
		for _, it := range []dsl.DataType{dsl.Int32, dsl.Int64} {
			net := dsl.NewNetwork()
			cache := net.AddInput("cache", dt, dsl.Dims{2, 3, 7, 4})
			kv := net.AddKVCacheUpdate(cache, net.AddInput("upd", dt, dsl.Dims{2, 3, 2, 4}), net.AddInput("idx", it, dsl.Dims{2}), dsl.KVCacheModeLinear)
			familyNet(t, net, kv)
			_, srcs := familyKernel(t, net, kv)
			m, g, err := familyOf(kv).plan(kv, familyStaticValues(net))
			if err != nil || !slices.Equal(m, []int64{3, 7, 4, 2}) || g.n != 168 {
				t.Errorf("%v/%v: plan meta %v, launch %+v, %v", dt, it, m, g, err)
			}
			for k, v := range srcs {
				all[k] = v
			}
			bad := familyStaticValues(net)
			bad.dims[kv.Input(2)] = []int64{3}
			_, _, err = familyOf(kv).plan(kv, bad)
			wantCode(t, err, diag.ShapeMismatch, "3 write indices for a batch of 2")
		}
	}
}
