package cuda

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/dsl"
)

// poolKernel writes 2-d max pooling over NCHW, or NHWC with
// channelsLast: one thread per output element; channels last, in 2-byte
// types with channels in multiples of 8 and 16-byte aligned buffers, one
// thread per 8 channels of a pixel with 16-byte loads. Meta: [C, H, W,
// OH, OW, kh, kw, sh, sw, ph, pw].
func poolKernel(name string, l *dsl.PoolingLayer, channelsLast bool) (string, bool) {
	dt := l.Input(0).Type()
	c, ok := typeOf(dt)
	if !ok || !isFloat(dt) || l.Input(0).Rank() != 4 {
		return "", false
	}
	// Max only: average pooling is a kernel family (family_pool.go).
	if l.PoolingType() != dsl.PoolingMax {
		return "", false
	}
	// taps runs body for each tap of the window inside the image, with
	// the tap's input pixel at src[(y * W + x0) * pix].
	taps := func(body string) string {
		return `for (i64 a = 0; a < kh; ++a) {
      i64 y = oh * sh - ph + a; if (y < 0 || y >= H) continue;
      for (i64 b = 0; b < kw; ++b) {
        i64 x0 = ow * sw - pw + b; if (x0 < 0 || x0 >= W) continue;
        ` + body + `
      }
    }`
	}
	const maxOf = "acc = (x > acc || x != x) ? x : acc;"
	const negInf = "-__int_as_float(0x7f800000)"
	var b strings.Builder
	fmt.Fprintf(&b, `extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, %s* __restrict__ out, const %s* __restrict__ in) {
  i64 C = m[0], H = m[1], W = m[2], OH = m[3], OW = m[4], kh = m[5], kw = m[6], sh = m[7], sw = m[8], ph = m[9], pw = m[10];
`, name, c.store, c.store)
	if channelsLast && dt.Bits() == 16 {
		fmt.Fprintf(&b, `  if (C %% 8 == 0 && (((unsigned long long)in | (unsigned long long)out) & 15) == 0) {
    const i64 C8 = C / 8;
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n / 8; i += (i64)gridDim.x * blockDim.x) {
      i64 c8 = i %% C8, ow = (i / C8) %% OW, oh = (i / (C8 * OW)) %% OH, nn = i / (C8 * OW * OH);
      const %[1]s* src = in + nn * H * W * C + c8 * 8; const i64 pix = C;
      float v[8];
      #pragma unroll
      for (int u = 0; u < 8; ++u) v[u] = %[2]s;
      %[3]s
      uint4 r; %[1]s* e = (%[1]s*)&r;
      #pragma unroll
      for (int u = 0; u < 8; ++u) { float acc = v[u]; e[u] = %[4]s; }
      *(uint4*)(out + i * 8) = r;
    }
    return;
  }
`, c.store, negInf, taps(`uint4 raw = *(const uint4*)(src + (y * W + x0) * pix); const `+c.store+`* e = (const `+c.store+`*)&raw;
        #pragma unroll
        for (int u = 0; u < 8; ++u) { float x = `+c.loadf("e[u]")+`, acc = v[u]; `+maxOf+` v[u] = acc; }`), c.savef("acc"))
	}
	at := `i64 ow = i % OW, oh = (i / OW) % OH, nc = i / (OW * OH);
    const ` + c.store + `* src = in + nc * H * W; const i64 pix = 1;`
	if channelsLast {
		at = `i64 ch = i % C, ow = (i / C) % OW, oh = (i / (C * OW)) % OH, nn = i / (C * OW * OH);
    const ` + c.store + `* src = in + nn * H * W * C + ch; const i64 pix = C;`
	}
	fmt.Fprintf(&b, `  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    %s
    float acc = %s;
    %s
    out[i] = %s;
  }
}
`, at, negInf, taps("float x = "+c.loadf("src[(y * W + x0) * pix]")+"; "+maxOf), c.savef("acc"))
	return b.String(), true
}

// im2colKernel writes the image-to-columns transform of a 2-d convolution
// over NCHW with groups: col[n][g][(c*kh+a)*kw+b][oh*OW+ow] is the input
// pixel the kernel tap (a, b) of channel c of group g sees at (oh, ow), or
// 0 in the padding. Meta: [N, C, H, W, G, OH, OW, kh, kw, sh, sw, ph, pw,
// dh, dw].
func im2colKernel(name string, dt dsl.DataType) (string, bool) {
	c, ok := typeOf(dt)
	if !ok || !isFloat(dt) {
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 total, %[2]s* __restrict__ col, const %[2]s* __restrict__ in) {
  i64 C = m[1], H = m[2], W = m[3], G = m[4], OH = m[5], OW = m[6], kh = m[7], kw = m[8], sh = m[9], sw = m[10], ph = m[11], pw = m[12], dh = m[13], dw = m[14];
  i64 Cg = C / G, P = OH * OW, K = Cg * kh * kw;
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (i64)gridDim.x * blockDim.x) {
    i64 p = i %% P, k = (i / P) %% K, ng = i / (P * K);
    i64 g = ng %% G, nn = ng / G;
    i64 b = k %% kw, a = (k / kw) %% kh, ch = k / (kw * kh);
    i64 ow = p %% OW, oh = p / OW;
    i64 y = oh * sh - ph + a * dh, x = ow * sw - pw + b * dw;
    %[2]s v = 0;
    if (y >= 0 && y < H && x >= 0 && x < W) v = in[((nn * C + g * Cg + ch) * H + y) * W + x];
    col[i] = v;
  }
}
`, name, c.store), true
}

// biasKernel adds a per-channel bias to an NCHW-like tensor in place.
// Meta: [C, inner].
func biasKernel(name string, dt, bt dsl.DataType) (string, bool) {
	c, ok := typeOf(dt)
	b, ok2 := typeOf(bt)
	if !ok || !ok2 || !isFloat(dt) || !isFloat(bt) {
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, %[2]s* __restrict__ out, const %[3]s* __restrict__ bias) {
  i64 C = m[0], inner = m[1];
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    float v = %[4]s + %[5]s;
    out[i] = %[6]s;
  }
}
`, name, c.store, b.store, c.loadf("out[i]"), b.loadf("bias[(i / inner) % C]"), c.savef("v")), true
}

// gatherKernels pick slices along one axis (GatherDefault), by element
// size and index type. Meta: [outer, axis dim, inner, number of indices].
func gatherKernels() string {
	var s string
	for _, t := range movedElements {
		for _, ix := range []struct{ name, ty string }{{"i32", "int"}, {"i64", "i64"}} {
			s += fmt.Sprintf(`extern "C" __global__ void trtc_gather%s_%s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ data, const %s* __restrict__ idx) {
  i64 A = m[1], inner = m[2], J = m[3];
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 in_ = i %% inner, j = (i / inner) %% J, o = i / (inner * J);
    i64 k = (i64)idx[j];
    if (k < -A || k >= A) { trtc_fault(fault, j, k); out[i] = 0; continue; }
    if (k < 0) k += A;
    out[i] = data[(o * A + k) * inner + in_];
  }
}
`, t.name, ix.name, t.ty, t.ty, ix.ty)
		}
	}
	return s
}
