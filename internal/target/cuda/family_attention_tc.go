package cuda

import (
	"fmt"
	"math"
	"strings"

	"github.com/trtc/trtc/dsl"
)

// The tensor-core attention kernel, for half and bfloat16 attention
// under softmax with a head dim known at build time (a multiple of 16 up
// to 128): FlashAttention-2's scheme on mma.sync. A warp owns 16 query
// rows of one (batch, head): it holds its Q rows as mma fragments, walks
// the keys 64 at a time, computing the 16x64 scores with m16n8k16 mma in
// float, masks them, keeps each row's running maximum and sum (online
// softmax: earlier outputs are rescaled when the maximum grows), and
// multiplies the probabilities, rounded to the input type as fragments,
// by V into float accumulators; the output is written once, over the
// sum. Nothing but the output reaches memory.
//
// It differs from the CPU engine's softmax in double by the rounding of
// the probabilities to the input type before the second product (as
// every fused attention does) and by float exponents: within the half
// precision tolerance. A row whose keys are all masked is zeros, as the
// CPU engine's.
//
// A block's 8 warps take 128 query rows of one (batch, head) and share
// each chunk's keys and values, loaded into shared memory (the values
// transposed, so every fragment is one 32-bit load).
//
// The metadata is attentionPlan's; n counts blocks: B·Hq·⌈Sq/128⌉.

// tensorCoreHeadDim is the head dim the tensor-core kernel takes for l,
// or 0 when l needs the general kernel.
func tensorCoreHeadDim(l dsl.Layer) int {
	a := l.(*dsl.AttentionLayer)
	qt := l.Input(0).Type()
	if qt != dsl.Float16 && qt != dsl.BFloat16 || a.NormalizationOperation() != dsl.AttentionNormSoftmax {
		return 0
	}
	if m := a.Mask(); m != nil && m.Type() != dsl.Bool && m.Type() != qt {
		return 0
	}
	if t := a.KeyValueLengths(); t != nil && t.Type() != dsl.Int32 {
		return 0
	}
	d := l.Input(0).Dims()
	if len(d) != 4 || d[3]%16 != 0 || d[3] < 16 || d[3] > 128 {
		return 0
	}
	return int(d[3])
}

// attentionTileRows is the query rows a warp of the tensor-core kernel
// computes; attentionKeyChunk the keys it scores at a time.
const (
	attentionTileRows  = 16
	attentionBlockRows = 8 * attentionTileRows // a block's 8 warps share one (batch, head)
	attentionKeyChunk  = 64
)

func tensorCoreAttentionKernel(name string, l dsl.Layer, d int, layout attentionLayout) (string, bool) {
	a := l.(*dsl.AttentionLayer)
	qt := l.Input(0).Type()
	c, _ := typeOf(qt)
	mmaType, pack, unpack := "f16", "f2h", "h2f"
	if qt == dsl.BFloat16 {
		mmaType, pack, unpack = "bf16", "f2b", "b2f"
	}
	var params, allowed string
	if m := a.Mask(); m != nil {
		idx := "mrow[r] + j * ms3"
		if m.Type() == dsl.Bool {
			params += ", const unsigned char* __restrict__ mask"
			allowed = "if (mask[" + idx + "] == 0) return ninf;"
		} else {
			params += ", const unsigned short* __restrict__ mask"
			allowed = "s = __fadd_rn(s, " + c.loadf("mask["+idx+"]") + ");"
		}
	}
	length := ""
	if a.KeyValueLengths() != nil {
		params += ", const int* __restrict__ kvlen"
		length = `len = (i64)kvlen[b];
    if (len < 0 || len > Skv) {
      if (lane == 0) trtc_fault(fault, b, len);
      len = -1;
    }`
	}
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	scale := ""
	if layout.scale != 1 {
		scale = fmt.Sprintf(" * __int_as_float(0x%08x)", math.Float32bits(layout.scale))
	}
	r := strings.NewReplacer("NAME", name, "QBSHD", flag(layout.bshd[0]), "KBSHD", flag(layout.bshd[1]), "VBSHD", flag(layout.bshd[2]), "OBSHD", flag(layout.bshd[3]), "SCALEOP", scale, "PARAMS", params, "LENGTH", length, "ALLOWED", allowed,
		"MMATYPE", mmaType, "UNPACK", unpack, "PACK", pack, "HEADDIM", fmt.Sprint(d), "TILEROWS", fmt.Sprint(attentionTileRows), "BLOCKROWS", fmt.Sprint(attentionBlockRows), "KEYCHUNK", fmt.Sprint(attentionKeyChunk))
	return r.Replace(tensorCoreAttentionSource), true
}

const tensorCoreAttentionSource = `
// D += A B for one m16n8k16 tile in mma.sync's fragment layout: on
// sm_80 and later the instruction, before that the same arithmetic in
// float with the fragments exchanged by shuffles (slow, but the kernel
// runs on every GPU NVRTC targets).
__device__ __forceinline__ float NAME_lo(unsigned x) { return UNPACK((unsigned short)(x & 0xffffu)); }
__device__ __forceinline__ float NAME_hi(unsigned x) { return UNPACK((unsigned short)(x >> 16)); }
__device__ __forceinline__ void NAME_mma(float* acc, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0, unsigned b1) {
#if __CUDA_ARCH__ >= 800
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.MMATYPE.MMATYPE.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
               : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#else
  // Lane 4g+t holds A's rows g and g+8 at columns 2t, 2t+1, 2t+8, 2t+9
  // and B's column g at rows 2t, 2t+1, 2t+8, 2t+9; this lane's outputs
  // are rows g, g+8 at columns 2t', 2t'+1.
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  #pragma unroll
  for (int src = 0; src < 4; ++src) {
    const unsigned x0 = __shfl_sync(0xffffffffu, a0, 4 * g + src), x1 = __shfl_sync(0xffffffffu, a1, 4 * g + src);
    const unsigned x2 = __shfl_sync(0xffffffffu, a2, 4 * g + src), x3 = __shfl_sync(0xffffffffu, a3, 4 * g + src);
    #pragma unroll
    for (int c = 0; c < 2; ++c) {
      const unsigned y0 = __shfl_sync(0xffffffffu, b0, 4 * (2 * t + c) + src), y1 = __shfl_sync(0xffffffffu, b1, 4 * (2 * t + c) + src);
      acc[c] += NAME_lo(x0) * NAME_lo(y0) + NAME_hi(x0) * NAME_hi(y0) + NAME_lo(x2) * NAME_lo(y1) + NAME_hi(x2) * NAME_hi(y1);
      acc[2 + c] += NAME_lo(x1) * NAME_lo(y0) + NAME_hi(x1) * NAME_hi(y0) + NAME_lo(x3) * NAME_lo(y1) + NAME_hi(x3) * NAME_hi(y1);
    }
  }
#endif
}
// Two neighbouring elements as one fragment register, read and written
// as two: a caller's device buffers need not be 4-byte aligned.
__device__ __forceinline__ unsigned NAME_ld2(const unsigned short* p) { return (unsigned)p[0] | ((unsigned)p[1] << 16); }
__device__ __forceinline__ void NAME_st2(unsigned short* p, unsigned x) { p[0] = (unsigned short)(x & 0xffffu); p[1] = (unsigned short)(x >> 16); }
__device__ __forceinline__ unsigned NAME_pack(float lo, float hi) { return (unsigned)PACK(lo) | ((unsigned)PACK(hi) << 16); }
extern "C" __global__ void NAME(const i64* __restrict__ m, i64 n, unsigned long long* fault, unsigned short* __restrict__ out, const unsigned short* __restrict__ q, const unsigned short* __restrict__ k, const unsigned short* __restrict__ v PARAMS) {
  const i64 Hq = m[0], Hkv = m[1], Sq = m[2], Skv = m[3], causal = m[5];
  const i64 ms0 = m[7], ms1 = m[8], ms2 = m[9], ms3 = m[10];
  const int D = HEADDIM, KT = HEADDIM / 16, NT = HEADDIM / 8, CN = KEYCHUNK / 8;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t4 = lane & 3;
  const float ninf = __int_as_float(0xff800000);
  // The chunk's keys as rows and its values transposed, each row padded
  // by 8 elements so a warp's fragment loads hit 32 distinct banks.
  __shared__ __align__(16) unsigned short ks[KEYCHUNK][HEADDIM + 8];
  __shared__ __align__(16) unsigned short vt[HEADDIM][KEYCHUNK + 8];
  const i64 groups = (Sq + BLOCKROWS - 1) / BLOCKROWS;
  // 16-byte loads of K and V where their buffers allow (rows are
  // multiples of 32 bytes): the arena's always do.
  const bool wide = (((unsigned long long)k | (unsigned long long)v) & 15) == 0;
  for (i64 unit = blockIdx.x; unit < n; unit += gridDim.x) {
    const i64 bh = unit / groups, row0 = (unit % groups) * BLOCKROWS + warp * TILEROWS, h = bh % Hq, b = bh / Hq, kh = h / (Hq / Hkv);
    // Each operand's first row and the stride between rows: [B, H, S, D]
    // or, read through a folded head transpose, [B, S, H, D].
    const i64 qrs = QBSHD ? Hq * D : D, krs = KBSHD ? Hkv * D : D, vrs = VBSHD ? Hkv * D : D, ors = OBSHD ? Hq * D : D;
    const unsigned short* qbase = q + (QBSHD ? (b * Sq * Hq + h) * D : bh * Sq * D);
    const unsigned short* kb = k + (KBSHD ? (b * Skv * Hkv + kh) * D : (b * Hkv + kh) * Skv * D);
    const unsigned short* vb = v + (VBSHD ? (b * Skv * Hkv + kh) * D : (b * Hkv + kh) * Skv * D);
    unsigned short* obase = out + (OBSHD ? (b * Sq * Hq + h) * D : bh * Sq * D);
    i64 len = Skv;
    LENGTH
    // This thread's two rows of the warp's tile: row0 + g and row0 + g + 8.
    const i64 ra = row0 + g, rb = row0 + g + 8;
    const unsigned short* qa = qbase + (ra < Sq ? ra : 0) * qrs;
    const unsigned short* qb = qbase + (rb < Sq ? rb : 0) * qrs;
    unsigned qf[KT][4];
    #pragma unroll
    for (int kt = 0; kt < KT; ++kt) {
      const int c0 = kt * 16 + t4 * 2;
      qf[kt][0] = ra < Sq ? NAME_ld2(qa + c0) : 0u;
      qf[kt][1] = rb < Sq ? NAME_ld2(qb + c0) : 0u;
      qf[kt][2] = ra < Sq ? NAME_ld2(qa + c0 + 8) : 0u;
      qf[kt][3] = rb < Sq ? NAME_ld2(qb + c0 + 8) : 0u;
    }
    float o[NT][4];
    #pragma unroll
    for (int nt = 0; nt < NT; ++nt) o[nt][0] = o[nt][1] = o[nt][2] = o[nt][3] = 0.f;
    float mx[2] = {ninf, ninf}, sum[2] = {0.f, 0.f};
    // The mask's offsets of the two rows.
    const i64 mrow[2] = {b * ms0 + h * ms1 + ra * ms2, b * ms0 + h * ms1 + rb * ms2};
    // The score of this thread's row r (0: ra, 1: rb) and key j after
    // the masks (-inf: masked).
    auto masked = [&](float s, int r, i64 j) -> float {
      const i64 i = r ? rb : ra;
      if (j >= len || i >= Sq) return ninf;
      if (causal == 1 && j > i) return ninf;
      if (causal == 2 && j > i + Skv - Sq) return ninf;
      ALLOWED
      return s;
    };
    for (i64 j0 = 0; j0 < len; j0 += KEYCHUNK) {
      // The block loads the chunk: 16-byte loads, keys past the end zero.
      __syncthreads();
      for (int e = threadIdx.x; e < KEYCHUNK * (HEADDIM / 8); e += blockDim.x) {
        const int r = e / (HEADDIM / 8), c = (e % (HEADDIM / 8)) * 8;
        const i64 key = j0 + r;
        uint4 kv = make_uint4(0u, 0u, 0u, 0u), vv = kv;
        if (key < Skv && wide) {
          kv = *(const uint4*)(kb + key * krs + c);
          vv = *(const uint4*)(vb + key * vrs + c);
        } else if (key < Skv) {
          const unsigned short* kp = kb + key * krs + c;
          const unsigned short* vp = vb + key * vrs + c;
          kv = make_uint4(NAME_ld2(kp), NAME_ld2(kp + 2), NAME_ld2(kp + 4), NAME_ld2(kp + 6));
          vv = make_uint4(NAME_ld2(vp), NAME_ld2(vp + 2), NAME_ld2(vp + 4), NAME_ld2(vp + 6));
        }
        *(uint4*)&ks[r][c] = kv;
        const unsigned w[4] = {vv.x, vv.y, vv.z, vv.w};
        #pragma unroll
        for (int u = 0; u < 4; ++u) {
          vt[c + 2 * u][r] = (unsigned short)(w[u] & 0xffffu);
          vt[c + 2 * u + 1][r] = (unsigned short)(w[u] >> 16);
        }
      }
      __syncthreads();
      float s[CN][4];
      #pragma unroll
      for (int nt = 0; nt < CN; ++nt) {
        s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
        const unsigned short* kr = ks[nt * 8 + g]; // this thread's column of K^T
        #pragma unroll
        for (int kt = 0; kt < KT; ++kt) {
          const int c0 = kt * 16 + t4 * 2;
          NAME_mma(s[nt], qf[kt][0], qf[kt][1], qf[kt][2], qf[kt][3], *(const unsigned*)(kr + c0), *(const unsigned*)(kr + c0 + 8));
        }
      }
      // Mask, and the chunk's maximum of each row across the quad.
      float cm[2] = {ninf, ninf};
      #pragma unroll
      for (int nt = 0; nt < CN; ++nt) {
        #pragma unroll
        for (int e = 0; e < 4; ++e) {
          const i64 j = j0 + nt * 8 + t4 * 2 + (e & 1);
          s[nt][e] = masked(s[nt][e]SCALEOP, e >> 1, j);
          cm[e >> 1] = fmaxf(cm[e >> 1], s[nt][e]);
        }
      }
      float scale[2];
      #pragma unroll
      for (int r = 0; r < 2; ++r) {
        cm[r] = fmaxf(cm[r], __shfl_xor_sync(0xffffffffu, cm[r], 1));
        cm[r] = fmaxf(cm[r], __shfl_xor_sync(0xffffffffu, cm[r], 2));
        const float nm = fmaxf(mx[r], cm[r]);
        scale[r] = (mx[r] == ninf) ? 0.f : __expf(mx[r] - nm);
        mx[r] = nm;
        sum[r] *= scale[r];
      }
      #pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        o[nt][0] *= scale[0]; o[nt][1] *= scale[0];
        o[nt][2] *= scale[1]; o[nt][3] *= scale[1];
      }
      // Probabilities: exponents over the running maximum, summed in
      // float as they are rounded for the product with V.
      unsigned pf[CN][2];
      #pragma unroll
      for (int nt = 0; nt < CN; ++nt) {
        float p[4];
        #pragma unroll
        for (int e = 0; e < 4; ++e) {
          const float mr = mx[e >> 1];
          p[e] = (s[nt][e] == ninf || mr == ninf) ? 0.f : __expf(s[nt][e] - mr);
          sum[e >> 1] += p[e];
        }
        pf[nt][0] = NAME_pack(p[0], p[1]);
        pf[nt][1] = NAME_pack(p[2], p[3]);
      }
      // O += P V: P's 16 keys kt as an A fragment (two score tiles), V's
      // [16 keys, 8 dims] tiles as B fragments from the transposed chunk.
      #pragma unroll
      for (int kt = 0; kt < CN / 2; ++kt) {
        const int k0 = kt * 16 + t4 * 2;
        #pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
          const unsigned short* vr = vt[nt * 8 + g];
          NAME_mma(o[nt], pf[2 * kt][0], pf[2 * kt][1], pf[2 * kt + 1][0], pf[2 * kt + 1][1], *(const unsigned*)(vr + k0), *(const unsigned*)(vr + k0 + 8));
        }
      }
    }
    #pragma unroll
    for (int r = 0; r < 2; ++r) {
      sum[r] += __shfl_xor_sync(0xffffffffu, sum[r], 1);
      sum[r] += __shfl_xor_sync(0xffffffffu, sum[r], 2);
    }
    #pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
      const int c0 = nt * 8 + t4 * 2;
      if (ra < Sq) {
        const float inv = sum[0] > 0.f ? 1.f / sum[0] : 0.f;
        NAME_st2(obase + ra * ors + c0, NAME_pack(o[nt][0] * inv, o[nt][1] * inv));
      }
      if (rb < Sq) {
        const float inv = sum[1] > 0.f ? 1.f / sum[1] : 0.f;
        NAME_st2(obase + rb * ors + c0, NAME_pack(o[nt][2] * inv, o[nt][3] * inv));
      }
    }
  }
}
`
