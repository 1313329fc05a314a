package cuda

import (
	"fmt"
	"math"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
)

// Normalization over any axes, and with groups (group norm; instance norm
// is a group per channel): one block of 256 threads per statistics group
// (the elements that share a mean and variance) sums the group in double,
// as the CPU engine does, then writes (x-mean)/sqrt(var+eps)*scale+bias,
// rounded to float and then to the output type. Scale and bias are per
// group (AddNormalization with groups) or broadcast to the input. The
// built-in kernel (normalizationKernel) keeps the trailing-axes layers
// without groups.
//
// Meta: [rank, input dims (rank), scale/bias strides over the input
// (rank; 0 where they broadcast), kept rank, kept dims, kept strides,
// reduced rank, reduced dims, reduced strides, groups when the scale is
// per group (else 0), epsilon's float32 bits]. With groups the kept dims
// are [N*groups] and the reduced ones [C/groups * spatial], contiguous.
func init() {
	registerFamily(dsl.LayerNormalization, &kernelFamily{
		takes: func(l dsl.Layer) bool {
			nl := l.(*dsl.NormalizationLayer)
			_, trailing := trailingAxes(nl.Axes(), l.Input(0).Rank())
			return !trailing || nl.NbGroups() > 1
		},
		lower: func(l dsl.Layer) (bool, string) {
			for i := 0; i < 3; i++ {
				if dt := l.Input(i).Type(); !isFloat(dt) {
					return false, "no normalization kernel for " + dt.String()
				}
			}
			return true, ""
		},
		source: normNdKernel,
		plan:   normNdPlan,
	})
}

func normNdKernel(name string, l dsl.Layer) (string, bool) {
	dt := l.Input(0).Type()
	c, ok := typeOf(dt)
	if !ok || !isFloat(dt) || l.Input(1).Type() != dt || l.Input(2).Type() != dt {
		return "", false
	}
	return fmt.Sprintf(`__device__ double %[1]s_sum(double* part, double v) {
  __syncthreads();
  part[threadIdx.x] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  return part[0];
}
extern "C" __global__ void %[1]s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %[2]s* __restrict__ out, const %[2]s* __restrict__ x, const %[2]s* __restrict__ scale, const %[2]s* __restrict__ bias) {
  const int r = (int)m[0]; const i64* dims = m + 1; const i64* ps = dims + r;
  const int nk = (int)ps[r]; const i64* kd = ps + r + 1; const i64* ks = kd + nk;
  const int nr = (int)ks[nk]; const i64* rd = ks + nk + 1; const i64* rs = rd + nr;
  const i64 G = rs[nr];
  const double eps = (double)__int_as_float((int)rs[nr + 1]);
  i64 R = 1;
  for (int k = 0; k < nr; ++k) R *= rd[k];
  __shared__ double part[256];
  for (i64 o = blockIdx.x; o < n; o += gridDim.x) {
    const i64 base = offset(o, nk, kd, ks);
    double s = 0.0;
    for (i64 j = threadIdx.x; j < R; j += blockDim.x) s += (double)%[3]s;
    const double mean = %[1]s_sum(part, s) / (double)R;
    s = 0.0;
    for (i64 j = threadIdx.x; j < R; j += blockDim.x) { const double d = (double)%[3]s - mean; s += d * d; }
    const double inv = 1.0 / sqrt(%[1]s_sum(part, s) / (double)R + eps);
    for (i64 j = threadIdx.x; j < R; j += blockDim.x) {
      const i64 e = base + offset(j, nr, rd, rs);
      const i64 q = G > 0 ? o %% G : offset(e, r, dims, ps);
      const double v = __dadd_rn(__dmul_rn(__dmul_rn(__dsub_rn((double)%[4]s, mean), inv), (double)%[5]s), (double)%[6]s);
      out[e] = %[7]s;
    }
  }
  (void)fault;
}
`, name, c.store, c.loadf("x[base + offset(j, nr, rd, rs)]"), c.loadf("x[e]"), c.loadf("scale[q]"), c.loadf("bias[q]"), c.savef("(float)v")), true
}

func normNdPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	nl := l.(*dsl.NormalizationLayer)
	in, ss, bs := v.dims[l.Input(0)], v.dims[l.Input(1)], v.dims[l.Input(2)]
	rank := len(in)
	if fmt.Sprint(ss) != fmt.Sprint(bs) {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: at run time scale is %v and bias is %v; they must match", dsl.LayerString(l), ss, bs)
	}
	if len(ss) != rank {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: scale %v for an input %v of another rank", dsl.LayerString(l), ss, in)
	}
	strides := contiguous(in)
	var keptD, keptS, redD, redS []int64
	groupScaled := int64(0)
	if G := nl.NbGroups(); G > 1 {
		if rank < 2 || in[1]%G != 0 {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: at run time nbGroups %d does not divide the channels of %v", dsl.LayerString(l), G, in)
		}
		block := in[1] / G * volume(in[2:])
		keptD, keptS = []int64{in[0] * G}, []int64{block}
		redD, redS = []int64{block}, []int64{1}
		if nl.GroupScaled() {
			if volume(ss) != G {
				return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: at run time scale has %d values; want one per group (%d)", dsl.LayerString(l), volume(ss), G)
			}
			groupScaled = G
		}
	} else {
		axes, err := dsl.AxesFromMask(nl.Axes(), rank)
		if err != nil {
			return nil, launch{}, diag.Errorf(diag.InvalidNode, "%s: %v", dsl.LayerString(l), err)
		}
		reduced := make([]bool, rank)
		for _, a := range axes {
			reduced[a] = true
		}
		for a := range in {
			if reduced[a] {
				redD, redS = append(redD, in[a]), append(redS, strides[a])
			} else {
				keptD, keptS = append(keptD, in[a]), append(keptS, strides[a])
			}
		}
	}
	ps := make([]int64, rank)
	if groupScaled == 0 {
		sc := contiguous(ss)
		for a := range ss {
			switch {
			case ss[a] == in[a] && ss[a] != 1:
				ps[a] = sc[a]
			case ss[a] != 1:
				return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: at run time scale %v does not broadcast to input %v", dsl.LayerString(l), ss, in)
			}
		}
	}
	m := append([]int64{int64(rank)}, in...)
	m = append(m, ps...)
	m = append(append(append(m, int64(len(keptD))), keptD...), keptS...)
	m = append(append(append(m, int64(len(redD))), redD...), redS...)
	m = append(m, groupScaled, int64(math.Float32bits(nl.Epsilon())))
	keys := volume(keptD)
	if volume(redD) == 0 {
		keys = 0 // no elements to normalize
	}
	return m, launch{n: keys, grid: rowsGrid(keys)}, nil
}

// rowsGrid is a grid of one block per row (grid-stride beyond 65535).
func rowsGrid(r int64) cuda.Dim3 {
	return cuda.Dim3{X: int(min(max(r, 1), 65535))}
}
