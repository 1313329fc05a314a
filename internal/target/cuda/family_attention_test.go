package cuda

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
)

func TestAttentionFamilyLowers(t *testing.T) { requireOnGPU(t, "transformer", dsl.LayerAttention) }

// attentionShape is an attention's batch, heads, sequences and head dim.
type attentionShape struct{ b, hq, hkv, sq, skv, d int64 }

// attentionCase is an Attention layer of query [b, hq, sq, d] and key and
// value [b, hkv, skv, d] with the given options: a Bool mask is [b, 1,
// sq, skv], an additive one [1, hq, 1, skv].
func attentionCase(dt dsl.DataType, s attentionShape, mask string, causal dsl.CausalMaskKind, kvLengths bool, norm dsl.AttentionNormalizationOp) (*dsl.Network, *dsl.AttentionLayer) {
	n := dsl.NewNetwork()
	q := n.AddInput("q", dt, dsl.Dims{s.b, s.hq, s.sq, s.d})
	k := n.AddInput("k", dt, dsl.Dims{s.b, s.hkv, s.skv, s.d})
	v := n.AddInput("v", dt, dsl.Dims{s.b, s.hkv, s.skv, s.d})
	a := n.AddAttentionV2(q, k, v, norm, causal)
	switch mask {
	case "bool":
		a.SetMask(n.AddInput("mask", dsl.Bool, dsl.Dims{s.b, 1, s.sq, s.skv}))
	case "add":
		a.SetMask(n.AddInput("mask", dt, dsl.Dims{1, s.hq, 1, s.skv}))
	}
	if kvLengths {
		a.SetKeyValueLengths(n.AddInput("kvlen", dsl.Int32, dsl.Dims{s.b}))
	}
	return n, a
}

// smallAttention is TestAttentionFamily's shape: query [2, 4, 3, 8], keys
// and values [2, hkv, 5, 8].
func smallAttention(hkv int64) attentionShape { return attentionShape{2, 4, hkv, 3, 5, 8} }

// TestAttentionFamily writes the kernel for every float type with each
// mask, causal kind, key/value lengths and normalization (with NVRTC they
// compile), checks the plan's metadata, its shape errors and the fault's
// words, and leaves normalization quantization to the host.
func TestAttentionFamily(t *testing.T) {
	all := map[string]string{}
	for _, dt := range []dsl.DataType{dsl.Float32, dsl.Float16, dsl.BFloat16} {
		for _, tc := range []struct {
			hkv    int64
			mask   string
			causal dsl.CausalMaskKind
			kvLen  bool
			norm   dsl.AttentionNormalizationOp
		}{
			{4, "", dsl.CausalMaskNone, false, dsl.AttentionNormSoftmax},
			{2, "bool", dsl.CausalMaskNone, true, dsl.AttentionNormSoftmax},
			{1, "add", dsl.CausalMaskNone, false, dsl.AttentionNormNone},
			{2, "", dsl.CausalMaskLowerRight, true, dsl.AttentionNormSoftmax},
		} {
			t.Run(fmt.Sprintf("%v/%+v", dt, tc), func(t *testing.T) {
				net, a := attentionCase(dt, smallAttention(tc.hkv), tc.mask, tc.causal, tc.kvLen, tc.norm)
				familyNet(t, net, a)
				src, srcs := familyKernel(t, net, a)
				if strings.Contains(src, "trtc_fault") != tc.kvLen {
					t.Errorf("fault check %v, want %v", strings.Contains(src, "trtc_fault"), tc.kvLen)
				}
				m, g, err := familyOf(a).plan(a, familyStaticValues(net))
				strides := map[string][]int64{"": {0, 0, 0, 0}, "bool": {15, 0, 5, 1}, "add": {0, 5, 0, 1}}[tc.mask]
				softmax := int64(0)
				if tc.norm == dsl.AttentionNormSoftmax {
					softmax = 1
				}
				want := append([]int64{4, tc.hkv, 3, 5, 8, int64(tc.causal), softmax}, strides...)
				if err != nil || !slices.Equal(m, want) || g.n != 24 {
					t.Errorf("plan: meta %v, launch %+v, %v; want %v over 24 rows", m, g, err, want)
				}
				for k, v := range srcs {
					all[k] = v
				}
			})
		}
	}
	tensorCoreAttention(t, all)
	net, a := attentionCase(dsl.Float32, smallAttention(2), "bool", dsl.CausalMaskNone, true, dsl.AttentionNormSoftmax)
	familyNet(t, net, a)
	bad := familyStaticValues(net)
	bad.dims[a.Mask()] = []int64{2, 2, 3, 5}
	_, _, err := familyOf(a).plan(a, bad)
	wantCode(t, err, diag.ShapeMismatch, "the mask [2 2 3 5] does not broadcast to [2 4 3 5]")
	if ferr := familyOf(a).fault(a, familyStaticValues(net), 1, 9); ferr == nil || ferr.Error() != "key/value length 9 of batch 1 is outside [0, 5]" {
		t.Errorf("fault: %v", ferr)
	}
	q := dsl.NewNetwork()
	x := q.AddInput("x", dsl.Float16, dsl.Dims{1, 1, 2, 4})
	qa := q.AddAttention(x, x, x, dsl.AttentionNormSoftmax, false)
	qa.SetNormalizationQuantizeScale(q.AddInput("scale", dsl.Float32, dsl.Dims{}))
	qa.SetNormalizationQuantizeToType(dsl.Int8)
	familyNet(t, q, qa)
	if s, _ := familyStep(t, q, qa); s.Kind != kindHost {
		t.Errorf("attention with normalization quantization runs as %q, want the host", s.Kind)
	}
	compileWithNVRTC(t, all)
}

// tensorCoreAttention writes the tensor-core kernel for half and
// bfloat16 softmax attention of head dims 16 to 128 with each mask kind
// and key/value lengths, and checks its launch (a block per 128 query rows)
// and that other head dims, fp32 and no normalization take the general
// kernel; the kernels join all, and one compiles for sm_75 (the shuffle
// emulation of mma) too.
func tensorCoreAttention(t *testing.T, all map[string]string) {
	t.Helper()
	build := func(dt dsl.DataType, d int64, mask string, kvLen bool, norm dsl.AttentionNormalizationOp) (*dsl.Network, *dsl.AttentionLayer) {
		return attentionCase(dt, attentionShape{2, 4, 2, 37, 100, d}, mask, dsl.CausalMaskNone, kvLen, norm)
	}
	tc := map[string]string{}
	for _, dt := range []dsl.DataType{dsl.Float16, dsl.BFloat16} {
		for _, d := range []int64{16, 64, 128} {
			for _, mask := range []string{"", "bool", "add"} {
				net, a := build(dt, d, mask, mask == "bool", dsl.AttentionNormSoftmax)
				familyNet(t, net, a)
				src, srcs := familyKernel(t, net, a)
				if !strings.Contains(src, "mma.sync") {
					t.Errorf("%v head dim %d mask %q: not the tensor-core kernel", dt, d, mask)
				}
				_, g, err := familyOf(a).plan(a, familyStaticValues(net))
				if want := int64(2 * 4 * 1); err != nil || g.n != want {
					t.Errorf("%v head dim %d: launch %+v, %v; want %d blocks", dt, d, g, err, want)
				}
				// NVRTC takes seconds for each of these kernels: compile
				// every mask kind at head dim 64 and one of each other
				// head dim and type, and one for sm_75.
				if d == 64 && dt == dsl.Float16 || mask == "" {
					for k, v := range srcs {
						all[k] = v
					}
				}
				if d == 64 && dt == dsl.Float16 && mask == "bool" {
					for k, v := range srcs {
						tc[k] = v
					}
				}
			}
		}
	}
	for _, c := range []struct {
		dt   dsl.DataType
		d    int64
		norm dsl.AttentionNormalizationOp
	}{{dsl.Float32, 64, dsl.AttentionNormSoftmax}, {dsl.Float16, 24, dsl.AttentionNormSoftmax}, {dsl.Float16, 256, dsl.AttentionNormSoftmax}, {dsl.Float16, 64, dsl.AttentionNormNone}} {
		net, a := build(c.dt, c.d, "", false, c.norm)
		familyNet(t, net, a)
		if src, _ := familyKernel(t, net, a); strings.Contains(src, "mma.sync") {
			t.Errorf("%v head dim %d %v: the tensor-core kernel, want the general one", c.dt, c.d, c.norm)
		}
	}
	if _, _, err := cuda.NVRTCVersion(); err == nil {
		if _, err := compileKernels(tc, "sm_75"); err != nil {
			t.Fatal(err)
		}
	}
}
