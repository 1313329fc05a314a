package cuda

import (
	"fmt"
	"slices"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Attention: one warp per query row (batch, query head, position), fused:
// nothing but the output is written. The warp computes each score
// q·k_j as a float dot product reduced across its lanes (in another
// order than the CPU engine's sgemm: within the tolerance of the sum's
// length), applies the masks (causal, key/value lengths, Bool or
// additive) and normalizes as the CPU engine does: the maximum and the
// exponents and their sum in double, each weight the exponent rounded to
// float over the sum; with no normalization the masked scores are 0. It
// makes three passes over the keys (the maximum, the sum, the weighted
// values), recomputing the scores instead of holding them, so any
// sequence length fits; each lane accumulates attentionLanes output
// elements a pass over the values, in float. Grouped-query attention
// reads key/value head h / (Hq/Hkv). A key/value length outside [0, Skv]
// records a fault (the CPU engine's error) and its rows are zeros.
// Normalization quantization runs on the host.
//
// This is the general kernel; half and bfloat16 softmax attention with a
// head dim of 16 to 128 runs on tensor cores (family_attention_tc.go).
//
// Meta: [Hq, Hkv, Sq, Skv, D, causal kind, softmax, mask strides (4)
// over [B, Hq, Sq, Skv], 0 where the mask broadcasts]; n is the number of
// query rows.
func init() {
	registerFamily(dsl.LayerAttention, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			if l.(*dsl.AttentionLayer).NormalizationQuantizeScale() != nil {
				return false, "attention with normalization quantization runs on the host"
			}
			return true, ""
		},
		source: attentionKernel,
		plan:   attentionPlan,
		fault: func(l dsl.Layer, v shapeValues, pos, val int64) error {
			return fmt.Errorf("key/value length %d of batch %d is outside [0, %d]", val, pos, v.dims[l.Input(1)][2])
		},
	})
}

// attentionLanes is the output elements each lane accumulates in one pass
// over the values.
const attentionLanes = 4

func attentionKernel(name string, l dsl.Layer) (string, bool) {
	if d := tensorCoreHeadDim(l); d > 0 {
		return tensorCoreAttentionKernel(name, l, d, attentionLayout{scale: 1})
	}
	a := l.(*dsl.AttentionLayer)
	qt := l.Input(0).Type()
	c, ok := typeOf(qt)
	if !ok || !isFloat(qt) || l.Input(1).Type() != qt || l.Input(2).Type() != qt {
		return "", false
	}
	var params, allowed, addMask string
	if m := a.Mask(); m != nil {
		idx := "b * ms0 + h * ms1 + i * ms2 + j * ms3"
		switch {
		case m.Type() == dsl.Bool:
			params += ", const unsigned char* __restrict__ mask"
			allowed = fmt.Sprintf("if (mask[%s] == 0) return false;", idx)
		case m.Type() == qt:
			params += fmt.Sprintf(", const %s* __restrict__ mask", c.store)
			addMask = fmt.Sprintf("s = __fadd_rn(s, %s);", c.loadf("mask["+idx+"]"))
		default:
			return "", false
		}
	}
	length := ""
	if t := a.KeyValueLengths(); t != nil {
		if t.Type() != dsl.Int32 {
			return "", false
		}
		params += ", const int* __restrict__ kvlen"
		length = fmt.Sprintf(`len = (i64)kvlen[b];
    if (len < 0 || len > Skv) {
      if (lane == 0) trtc_fault(fault, b, len);
      for (i64 d = lane; d < D; d += 32) orow[d] = %s;
      continue;
    }`, c.savef("0.f"))
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %[2]s* __restrict__ out, const %[2]s* __restrict__ q, const %[2]s* __restrict__ k, const %[2]s* __restrict__ v%[3]s) {
  const i64 Hq = m[0], Hkv = m[1], Sq = m[2], Skv = m[3], D = m[4], causal = m[5], softmax = m[6];
  const i64 ms0 = m[7], ms1 = m[8], ms2 = m[9], ms3 = m[10];
  const int lane = threadIdx.x & 31;
  const float ninf = __int_as_float(0xff800000);
  const i64 warps = (i64)gridDim.x * (blockDim.x >> 5);
  for (i64 row = ((i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5; row < n; row += warps) {
    const i64 i = row %% Sq, bh = row / Sq, h = bh %% Hq, b = bh / Hq, kh = h / (Hq / Hkv);
    const %[2]s* qr = q + row * D;
    const %[2]s* kb = k + (b * Hkv + kh) * Skv * D;
    const %[2]s* vb = v + (b * Hkv + kh) * Skv * D;
    %[2]s* orow = out + row * D;
    i64 len = Skv;
    %[4]s
    // The score of key j after the masks; -inf where it is masked. Every
    // lane calls it with the same j (the dot product is warp-wide).
    auto allowed = [&](i64 j) -> bool {
      if (causal == 1 && j > i) return false;
      if (causal == 2 && j > i + Skv - Sq) return false;
      if (j >= len) return false;
      %[5]s
      return true;
    };
    auto score = [&](i64 j) -> float {
      if (!allowed(j)) return ninf;
      float s = 0.f;
      for (i64 d = lane; d < D; d += 32) s = __fadd_rn(s, __fmul_rn(%[6]s, %[7]s));
      for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
      %[8]s
      return s;
    };
    double mx = __longlong_as_double(0xfff0000000000000LL), sum = 0.0;
    if (softmax) {
      for (i64 j = 0; j < Skv; ++j) {
        if (!allowed(j)) continue;
        const double s = (double)score(j);
        mx = (s != s || mx != mx) ? __longlong_as_double(0x7ff8000000000000LL) : (s > mx ? s : mx);
      }
      const bool none = mx == __longlong_as_double(0xfff0000000000000LL);
      for (i64 j = 0; j < Skv; ++j) {
        const float s = score(j);
        if (!none && s != ninf) sum += exp((double)s - mx);
      }
    }
    const bool none = mx == __longlong_as_double(0xfff0000000000000LL);
    for (i64 d0 = 0; d0 < D; d0 += 32 * %[9]d) {
      float acc[%[9]d];
      for (int r = 0; r < %[9]d; ++r) acc[r] = 0.f;
      for (i64 j = 0; j < Skv; ++j) {
        const float s = score(j);
        float p;
        if (softmax) {
          p = (none || s == ninf) ? 0.f : (float)exp((double)s - mx);
          if (sum > 0) p = (float)((double)p / sum);
        } else {
          p = s == ninf ? 0.f : s;
        }
        for (int r = 0; r < %[9]d; ++r) {
          const i64 d = d0 + lane + 32 * r;
          if (d < D) acc[r] = __fadd_rn(acc[r], __fmul_rn(p, %[10]s));
        }
      }
      for (int r = 0; r < %[9]d; ++r) {
        const i64 d = d0 + lane + 32 * r;
        if (d < D) orow[d] = %[11]s;
      }
    }
  }
}
`, name, c.store, params, length, allowed, c.loadf("qr[d]"), c.loadf("kb[j * D + d]"), addMask, attentionLanes, c.loadf("vb[j * D + d]"), c.savef("acc[r]")), true
}

func attentionPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	a := l.(*dsl.AttentionLayer)
	qs, ks, vs := v.dims[l.Input(0)], v.dims[l.Input(1)], v.dims[l.Input(2)]
	if len(qs) != 4 || len(ks) != 4 || len(vs) != 4 || !slices.Equal(ks, vs) || qs[0] != ks[0] || qs[3] != ks[3] || ks[1] == 0 || qs[1]%ks[1] != 0 {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: query %v, key %v and value %v do not fit [B,Hq,Sq,D], [B,Hkv,Skv,D] with Hq a multiple of Hkv", dsl.LayerString(l), qs, ks, vs)
	}
	full := []int64{qs[0], qs[1], qs[2], ks[2]}
	strides := []int64{0, 0, 0, 0}
	if m := a.Mask(); m != nil {
		ms := v.dims[m]
		if len(ms) != 4 {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: the mask %v does not broadcast to %v", dsl.LayerString(l), ms, full)
		}
		st := contiguous(ms)
		for i := range full {
			switch {
			case ms[i] == full[i] && ms[i] != 1:
				strides[i] = st[i]
			case ms[i] != 1:
				return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: the mask %v does not broadcast to %v", dsl.LayerString(l), ms, full)
			}
		}
	}
	if t := a.KeyValueLengths(); t != nil {
		if k := volume(v.dims[t]); k != qs[0] {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: key/value lengths have %d values for a batch of %d", dsl.LayerString(l), k, qs[0])
		}
	}
	softmax := int64(0)
	if a.NormalizationOperation() == dsl.AttentionNormSoftmax {
		softmax = 1
	}
	meta := []int64{qs[1], ks[1], max(qs[2], 1), ks[2], qs[3], int64(a.CausalKind()), softmax}
	if d := tensorCoreHeadDim(l); d > 0 {
		if qs[3] != int64(d) {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: the query's head dim is %d at run time, %d when it was built", dsl.LayerString(l), qs[3], d)
		}
		blocks := qs[0] * qs[1] * ((qs[2] + attentionBlockRows - 1) / attentionBlockRows)
		return append(meta, strides...), launch{n: blocks, grid: grid(blocks * 256)}, nil
	}
	rows := qs[0] * qs[1] * qs[2]
	return append(meta, strides...), launch{n: rows, grid: grid(rows * 32)}, nil
}
