package cuda

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/dsl"
)

// copyKernels copy an N-d view element by element, by element size: the
// data movement of transposes, slices, concatenations and paddings. On
// the 32-bit path each thread moves pointwiseUnroll elements, loads first. Meta:
// [rank, dims, source strides, destination strides, source offset,
// destination offset, 1 when every offset fits 32 bits], in elements.
func copyKernels() string {
	var b strings.Builder
	for _, t := range movedElements {
		fmt.Fprintf(&b, `extern "C" __global__ void trtc_copy%s(const i64* __restrict__ meta, i64 n, %s* __restrict__ out, const %s* __restrict__ in) {
  int r = (int)meta[0]; const i64* d = meta + 1; const i64* ss = d + r; const i64* ds = ss + r;
  const %s* src = in + ds[r]; %s* dst = out + ds[r + 1];
  if (ds[r + 2]) {
    // A contiguous destination (every shuffle's) needs no index arithmetic.
    const bool dc = isContiguous(r, d, ds);
    const unsigned step = gridDim.x * blockDim.x * 4u;
    for (unsigned base = blockIdx.x * blockDim.x * 4u + threadIdx.x; base < (unsigned)n; base += step) {
      %s v[4];
      #pragma unroll
      for (int u = 0; u < 4; ++u) { const unsigned i = base + u * blockDim.x; if (i < (unsigned)n) v[u] = src[offset32(i, r, d, ss)]; }
      #pragma unroll
      for (int u = 0; u < 4; ++u) { const unsigned i = base + u * blockDim.x; if (i < (unsigned)n) dst[dc ? (int)i : offset32(i, r, d, ds)] = v[u]; }
    }
  } else {
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x)
      dst[offset(i, r, d, ds)] = src[offset(i, r, d, ss)];
  }
}
`, t.name, t.ty, t.ty, t.ty, t.ty, t.ty)
	}
	return b.String()
}

// copyMeta describes copying a view of dims from src (strides ss, offset
// so) to dst (strides ds, offset do), with the dims collapsed.
func copyMeta(dims, ss, ds []int64, so, do int64) []int64 {
	cd, cs := collapseDims(dims, ss, ds)
	narrow := int64(0)
	if volume(cd) <= fits32 && reach(cd, cs[0]) <= fits32 && reach(cd, cs[1]) <= fits32 {
		narrow = 1
	}
	m := []int64{int64(len(cd))}
	m = append(m, cd...)
	m = append(m, cs[0]...)
	m = append(m, cs[1]...)
	return append(m, so, do, narrow)
}

// reach is the largest distance, in elements, between two elements of a
// view of dims with strides.
func reach(dims, strides []int64) int64 {
	var r int64
	for k, d := range dims {
		s := strides[k]
		if s < 0 {
			s = -s
		}
		r += s * (d - 1)
	}
	return r
}

// contiguous returns the row-major strides of dims.
func contiguous(dims []int64) []int64 {
	s := make([]int64, len(dims))
	acc := int64(1)
	for k := len(dims) - 1; k >= 0; k-- {
		s[k] = acc
		acc *= dims[k]
	}
	return s
}

// reduceKernel writes a reduction: one block of 256 threads per output
// element, each thread striding over the reduced elements, then a tree in
// shared memory; or, for many small reductions (reducesPerThread), one
// thread per output element. Meta: [kept rank, kept dims, kept strides,
// reduced rank, reduced dims, reduced strides, 1 for a thread per
// output].
func reduceKernel(name string, l *dsl.ReduceLayer) (string, bool) {
	in, out := l.Input(0).Type(), l.Output(0).Type()
	ic, ok1 := typeOf(in)
	oc, ok2 := typeOf(out)
	if !ok1 || !ok2 || in == dsl.Bool {
		return "", false
	}
	acc := ic.compute
	var init, combine, final string
	switch l.Operation() {
	case dsl.ReduceSum, dsl.ReduceAvg:
		init, combine = "0", "a + b"
	case dsl.ReduceProd:
		init, combine = "1", "a * b"
	case dsl.ReduceMax:
		init, combine = "x_first", "((a > b || a != a) ? a : b)"
	case dsl.ReduceMin:
		init, combine = "x_first", "((a < b || a != a) ? a : b)"
	default:
		return "", false
	}
	final = "acc"
	if l.Operation() == dsl.ReduceAvg {
		final = fmt.Sprintf("(%s)(acc / (%s)R)", acc, acc)
	}
	first := ""
	if init == "x_first" {
		first = fmt.Sprintf("  %s x_first = %s;\n", acc, ic.loadf("in[base]"))
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ meta, i64 n, %[2]s* __restrict__ out, const %[3]s* __restrict__ in) {
  int nk = (int)meta[0]; const i64* kd = meta + 1; const i64* ks = kd + nk;
  int nr = (int)ks[nk]; const i64* rd = ks + nk + 1; const i64* rs = rd + nr;
  i64 R = 1; for (int k = 0; k < nr; ++k) R *= rd[k];
  if (rs[nr]) {
    for (i64 o = (i64)blockIdx.x * blockDim.x + threadIdx.x; o < n; o += (i64)gridDim.x * blockDim.x) {
      i64 base = offset(o, nk, kd, ks);
  %[5]s    %[4]s acc = %[6]s;
      for (i64 j = 0; j < R; ++j) { %[4]s a = acc, b = %[7]s; acc = %[8]s; }
      out[o] = %[9]s;
    }
    return;
  }
  __shared__ %[4]s part[256];
  for (i64 o = blockIdx.x; o < n; o += gridDim.x) {
    i64 base = offset(o, nk, kd, ks);
%[5]s    %[4]s acc = %[6]s;
    for (i64 j = threadIdx.x; j < R; j += blockDim.x) { %[4]s a = acc, b = %[7]s; acc = %[8]s; }
    part[threadIdx.x] = acc;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w /= 2) {
      if (threadIdx.x < w) { %[4]s a = part[threadIdx.x], b = part[threadIdx.x + w]; part[threadIdx.x] = %[8]s; }
      __syncthreads();
    }
    if (threadIdx.x == 0) { acc = part[0]; out[o] = %[9]s; }
    __syncthreads();
  }
}
`, name, oc.store, ic.store, acc, first, init, ic.loadf("in[base + offset(j, nr, rd, rs)]"), combine, oc.savef(final)), true
}

// reduceMeta splits the input dims into kept and reduced ones.
func reduceMeta(in []int64, axes uint32) []int64 {
	strides := contiguous(in)
	var kd, ks, rd, rs []int64
	for k, d := range in {
		if axes&(1<<k) != 0 {
			rd, rs = append(rd, d), append(rs, strides[k])
		} else {
			kd, ks = append(kd, d), append(ks, strides[k])
		}
	}
	m := []int64{int64(len(kd))}
	m = append(m, kd...)
	m = append(m, ks...)
	m = append(m, int64(len(rd)))
	m = append(m, rd...)
	m = append(m, rs...)
	if reducesPerThread(in, axes) {
		return append(m, 1)
	}
	return append(m, 0)
}

// reducesPerThread reports whether a reduction of in over axes has enough
// outputs, each of few enough elements, to take a thread per output: with
// a block of 256 threads for each of its 65,536 outputs of 49 elements,
// ResNet-50's global average pool took 250 µs at batch 32 (35 µs with a
// thread per output, channels last).
func reducesPerThread(in []int64, axes uint32) bool {
	r, n := int64(1), int64(1)
	for k, d := range in {
		if axes&(1<<k) != 0 {
			r *= d
		} else {
			n *= d
		}
	}
	return r <= 1024 && n >= 4096
}

// warpReduce is the butterfly reduction of v over a warp with op(a, b).
func warpReduce(v, op string) string {
	return fmt.Sprintf("for (int o = 16; o > 0; o >>= 1) { float a = %[1]s, b = __shfl_xor_sync(0xffffffffu, %[1]s, o); %[1]s = %[2]s; }", v, op)
}

// warpRows is the loop of the row-per-warp kernels: each warp of the grid
// takes rows lane by lane (see rowsPerWarp for the launch).
const warpRows = `  const unsigned lane = threadIdx.x & 31;
  const i64 warps = ((i64)gridDim.x * blockDim.x) >> 5;
  for (i64 row = ((i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5; row < n; row += warps) {
`

// softmaxKernel writes a softmax over one axis: one warp per (outer,
// inner) row, in float (max subtracted first), the row reduced with warp
// shuffles. Meta: [R, inner].
func softmaxKernel(name string, l *dsl.SoftMaxLayer) (string, bool) {
	return softmaxKernelTypes(name, l, l.Input(0).Type(), l.Output(0).Type())
}

// softmaxKernelTypes is softmaxKernel reading type it and storing type ot.
func softmaxKernelTypes(name string, l *dsl.SoftMaxLayer, it, ot dsl.DataType) (string, bool) {
	c, ok1 := typeOf(it)
	o, ok2 := typeOf(ot)
	if !ok1 || !ok2 || !isFloat(it) || !isFloat(ot) {
		return "", false
	}
	x := c.loadf("in[base + j * inner]")
	if per, ok := rowRegisters(softmaxRow(l)); ok {
		return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ meta, i64 n, %[7]s* __restrict__ out, const %[2]s* __restrict__ in) {
  const i64 R = meta[0], inner = meta[1];
%[3]s    const i64 base = (row / inner) * R * inner + row %% inner;
    float e[%[8]d];
    float m = -__int_as_float(0x7f800000);
    #pragma unroll
    for (int t = 0; t < %[8]d; ++t) { const i64 j = lane + 32 * t; if (j < R) { const float x = %[4]s; e[t] = x; m = x > m ? x : m; } }
    %[5]s
    float s = 0.f;
    #pragma unroll
    for (int t = 0; t < %[8]d; ++t) if (lane + 32 * t < R) { e[t] = expf(e[t] - m); s += e[t]; }
    %[6]s
    #pragma unroll
    for (int t = 0; t < %[8]d; ++t) { const i64 j = lane + 32 * t; if (j < R) out[base + j * inner] = %[9]s; }
  }
}
`, name, c.store, warpRows, x, warpReduce("m", "(a > b ? a : b)"), warpReduce("s", "a + b"), o.store, per, o.savef("e[t] / s")), true
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ meta, i64 n, %[8]s* __restrict__ out, const %[2]s* __restrict__ in) {
  const i64 R = meta[0], inner = meta[1];
%[3]s    const i64 base = (row / inner) * R * inner + row %% inner;
    float m = -__int_as_float(0x7f800000);
    _Pragma("unroll 4") for (i64 j = lane; j < R; j += 32) { float x = %[4]s; m = x > m ? x : m; }
    %[5]s
    float s = 0.f;
    _Pragma("unroll 4") for (i64 j = lane; j < R; j += 32) s += expf(%[4]s - m);
    %[6]s
    _Pragma("unroll 4") for (i64 j = lane; j < R; j += 32) out[base + j * inner] = %[7]s;
  }
}
`, name, c.store, warpRows, x, warpReduce("m", "(a > b ? a : b)"), warpReduce("s", "a + b"), o.savef("expf("+x+" - m) / s"), o.store), true
}

// normalizationKernel writes TensorRT's INormalizationLayer for axes that
// are the trailing dims (layer and instance norm): one warp per
// normalized row, mean and variance in float, then scale and bias read in
// their index modes. Meta: [R, rank, dims, scale mode, scale strides,
// bias mode, bias strides].
func normalizationKernel(name string, l *dsl.NormalizationLayer) (string, bool) {
	return normalizationKernelTypes(name, l, l.Input(0).Type(), l.Output(0).Type(), false)
}

// normalizationKernelTypes is normalizationKernel reading type it and
// storing type ot.
func normalizationKernelTypes(name string, l *dsl.NormalizationLayer, it, ot dsl.DataType, sum bool) (string, bool) {
	c, ok1 := typeOf(it)
	o, ok2 := typeOf(ot)
	if !ok1 || !ok2 || !isFloat(it) || !isFloat(ot) || l.NbGroups() > 1 {
		return "", false
	}
	sc, _ := typeOf(l.Input(1).Type())
	bc, _ := typeOf(l.Input(2).Type())
	if !isFloat(l.Input(1).Type()) || !isFloat(l.Input(2).Type()) {
		return "", false
	}
	// load reads element i of the input: with sum, the sum of in and in2
	// rounded to their type, as the folded sum stored it.
	load, in2 := func(i string) string { return c.loadf("in[" + i + "]") }, ""
	if sum {
		load = func(i string) string {
			return c.loadf(c.savef(c.loadf("in["+i+"]") + " + " + c.loadf("in2["+i+"]")))
		}
		in2 = fmt.Sprintf("const %s* __restrict__ in2, ", c.store)
	}
	idx := func(m, s string) string {
		return fmt.Sprintf("(%[1]s == %[3]d ? j : (%[1]s == %[4]d ? 0 : offset(i, r, d, %[2]s)))", m, s, indexInRow, indexScalar)
	}
	general := fmt.Sprintf(`%[6]s    const i64 base = row * R;
    float s = 0.f;
    _Pragma("unroll 4") for (i64 j = lane; j < R; j += 32) s += %[1]s;
    %[7]s
    const float mean = s / (float)R;
    float v = 0.f;
    _Pragma("unroll 4") for (i64 j = lane; j < R; j += 32) { float x = %[1]s - mean; v += x * x; }
    %[8]s
    const float inv = rsqrtf(v / (float)R + %[2]s);
    _Pragma("unroll 4") for (i64 j = lane; j < R; j += 32) {
      const i64 i = base + j;
      float y = (%[1]s - mean) * inv * %[3]s + %[4]s;
      out[i] = %[5]s;
    }
  }
`, load("base + j"), flit(l.Epsilon()), sc.loadf("scale["+idx("ms", "ss")+"]"), bc.loadf("bias["+idx("mb", "bs")+"]"), o.savef("y"),
		warpRows, warpReduce("s", "a + b"), warpReduce("v", "a + b"))
	body := general
	if per, ok := rowRegisters(normalizationRow(l)); ok {
		// Scale and bias along the row or scalar (layer norm's): no
		// offset arithmetic, which unrolled per element takes NVRTC
		// tens of seconds; other modes take the general loop.
		near := func(m string) string { return fmt.Sprintf("(%[1]s == %[2]d ? j : 0)", m, indexInRow) }
		fast := fmt.Sprintf(`%[7]s    const i64 base = row * R;
    float xv[%[6]d];
    float s = 0.f;
    #pragma unroll
    for (int t = 0; t < %[6]d; ++t) { const i64 j = lane + 32 * t; if (j < R) { xv[t] = %[1]s; s += xv[t]; } }
    %[8]s
    const float mean = s / (float)R;
    float v = 0.f;
    #pragma unroll
    for (int t = 0; t < %[6]d; ++t) if (lane + 32 * t < R) { float x = xv[t] - mean; v += x * x; }
    %[9]s
    const float inv = rsqrtf(v / (float)R + %[2]s);
    #pragma unroll
    for (int t = 0; t < %[6]d; ++t) {
      const i64 j = lane + 32 * t;
      if (j >= R) break;
      float y = (xv[t] - mean) * inv * %[3]s + %[4]s;
      out[base + j] = %[5]s;
    }
  }
`, load("base + j"), flit(l.Epsilon()), sc.loadf("scale["+near("ms")+"]"), bc.loadf("bias["+near("mb")+"]"), o.savef("y"), per,
			warpRows, warpReduce("s", "a + b"), warpReduce("v", "a + b"))
		body = fmt.Sprintf("  if ((ms == %[1]d || ms == %[2]d) && (mb == %[1]d || mb == %[2]d)) {\n%[3]s  } else {\n%[4]s  }\n", indexInRow, indexScalar, fast, general)
		scaled := "(xv[t][u] - mean) * inv * " + sc.loadf("scale["+near("ms")+"]") + " + " + bc.loadf("bias["+near("mb")+"]")
		if vec := normalizationVectorRows(l, c, o, it, ot, sum, scaled); vec != "" {
			body = vec + " else " + body[2:]
		}
	}
	return fmt.Sprintf(`extern "C" __global__ void %[1]s(const i64* __restrict__ meta, i64 n, %[2]s* __restrict__ out, const %[3]s* __restrict__ in, %[7]sconst %[4]s* __restrict__ scale, const %[5]s* __restrict__ bias) {
  const i64 R = meta[0]; const int r = (int)meta[1]; const i64* d = meta + 2;
  const int ms = (int)d[r]; const i64* ss = d + r + 1; const int mb = (int)ss[r]; const i64* bs = ss + r + 1;
%[6]s}
`, name, o.store, c.store, sc.store, bc.store, body, in2), true
}

// normalizationVectorRows is the rows-in-registers body of a layer norm
// whose rows split into 16-byte vectors (of the wider of the input's and
// the output's types): each lane loads and stores whole vectors, a
// quarter to an eighth of the element path's memory instructions with
// 2-byte elements, which at BERT's rows of 768 halves took the kernel
// from its instructions' time to its bytes'. It is an if, taken when
// every pointer it reads or writes by vectors is aligned and scale and
// bias are along the row or scalars; "" where the row does not split.
// y is the normalized element's expression, scale and bias applied.
func normalizationVectorRows(l *dsl.NormalizationLayer, c, o ctype, it, ot dsl.DataType, sum bool, y string) string {
	R := normalizationRow(l)
	v := 16 / max(elementBytes(it), elementBytes(ot))
	if _, ok := rowRegisters(R); !ok || R%v != 0 {
		return ""
	}
	vectors := int((R/v + 31) / 32) // per lane
	inAccess, outAccess := vectorAccess(v*elementBytes(it)), vectorAccess(v*elementBytes(ot))
	aligned := []string{fmt.Sprintf("(unsigned long long)in %% %d == 0", v*elementBytes(it)), fmt.Sprintf("(unsigned long long)out %% %d == 0", v*elementBytes(ot))}
	x := c.loadf("e[u]")
	loads := fmt.Sprintf("const %[1]s raw = *reinterpret_cast<const %[1]s*>(in + base + j0); const %[2]s* e = reinterpret_cast<const %[2]s*>(&raw);", inAccess, c.store)
	if sum {
		aligned = append(aligned, fmt.Sprintf("(unsigned long long)in2 %% %d == 0", v*elementBytes(it)))
		loads += fmt.Sprintf(" const %[1]s raw2 = *reinterpret_cast<const %[1]s*>(in2 + base + j0); const %[2]s* e2 = reinterpret_cast<const %[2]s*>(&raw2);", inAccess, c.store)
		x = c.loadf(c.savef(c.loadf("e[u]") + " + " + c.loadf("e2[u]")))
	}
	return fmt.Sprintf(`  if ((ms == %[1]d || ms == %[2]d) && (mb == %[1]d || mb == %[2]d) && %[3]s) {
%[4]s    const i64 base = row * R;
    float xv[%[5]d][%[6]d];
    float s = 0.f;
    #pragma unroll
    for (int t = 0; t < %[5]d; ++t) {
      const i64 j0 = (i64)(lane + 32 * t) * %[6]d;
      if (j0 < R) {
        %[7]s
        #pragma unroll
        for (int u = 0; u < %[6]d; ++u) { xv[t][u] = %[8]s; s += xv[t][u]; }
      }
    }
    %[9]s
    const float mean = s / (float)R;
    float var = 0.f;
    #pragma unroll
    for (int t = 0; t < %[5]d; ++t) if ((i64)(lane + 32 * t) * %[6]d < R) {
      #pragma unroll
      for (int u = 0; u < %[6]d; ++u) { float x = xv[t][u] - mean; var += x * x; }
    }
    %[10]s
    const float inv = rsqrtf(var / (float)R + %[11]s);
    #pragma unroll
    for (int t = 0; t < %[5]d; ++t) {
      const i64 j0 = (i64)(lane + 32 * t) * %[6]d;
      if (j0 >= R) break;
      __align__(16) %[12]s y[%[6]d];
      #pragma unroll
      for (int u = 0; u < %[6]d; ++u) { const i64 j = j0 + u; y[u] = %[13]s; }
      *reinterpret_cast<%[14]s*>(out + base + j0) = *reinterpret_cast<const %[14]s*>(y);
    }
  }
  }`, indexInRow, indexScalar, strings.Join(aligned, " && "), warpRows, vectors, v, loads, x,
		warpReduce("s", "a + b"), warpReduce("var", "a + b"), flit(l.Epsilon()), o.store,
		o.savef(y), outAccess)
}

// Rows in registers. Where the length of a softmax's or normalization's
// rows is known when the kernel is written (the reduced dims are static,
// whatever the batch), each lane keeps its elements of the row in
// registers: the row is read from memory once instead of two or three
// times, with every load in flight at once. Each lane visits its elements
// in the order the general kernel does, so the results are the same bits.

// maxRowRegisters is the most elements of a row each lane keeps.
const maxRowRegisters = 32

// rowRegisters is how many elements of a row of R each lane keeps, and
// whether the row fits (R static, at most 32 a lane).
func rowRegisters(R int64) (int, bool) {
	per := (R + 31) / 32
	return int(per), R > 0 && per <= maxRowRegisters
}

// softmaxRow is the length of a softmax's rows when static, else -1.
func softmaxRow(l *dsl.SoftMaxLayer) int64 {
	d := l.Input(0).Dims()
	return d[softmaxAxis(l, len(d))]
}

// normalizationRow is the length of a trailing-axes normalization's rows
// when static, else -1.
func normalizationRow(l *dsl.NormalizationLayer) int64 {
	d := l.Input(0).Dims()
	k, ok := trailingAxes(l.Axes(), len(d))
	if !ok || !dsl.Dims(d[len(d)-k:]).IsStatic() {
		return -1
	}
	return volume(d[len(d)-k:])
}

// normalizationMeta is the normalization kernel's metadata for an input
// of dims in normalized over its last k dims.
func normalizationMeta(in []int64, k int, scale, bias []int64) []int64 {
	R := volume(in[len(in)-k:])
	m := []int64{R, int64(len(in))}
	m = append(m, in...)
	for _, p := range [][]int64{scale, bias} {
		s := broadcastStrides(in, p)
		mode := indexMode(in, s)
		if mode != indexScalar && inRow(in, k, s) {
			mode = indexInRow
		}
		m = append(m, mode)
		m = append(m, s...)
	}
	return m
}

// inRow reports whether strides over dims address the offset within the
// trailing k dims: contiguous there, broadcast before.
func inRow(dims []int64, k int, strides []int64) bool {
	want := contiguous(dims[len(dims)-k:])
	for a := range dims {
		if dims[a] == 1 {
			continue
		}
		if a < len(dims)-k && strides[a] != 0 || a >= len(dims)-k && strides[a] != want[a-(len(dims)-k)] {
			return false
		}
	}
	return true
}

// trailingAxes reports whether mask selects exactly the last k dims of a
// rank-r tensor, and returns k.
func trailingAxes(mask uint32, r int) (int, bool) {
	k := 0
	for a := r - 1; a >= 0 && mask&(1<<a) != 0; a-- {
		k++
	}
	return k, k > 0 && mask == ((uint32(1)<<r)-1)&^((uint32(1)<<(r-k))-1)
}
