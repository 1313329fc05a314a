package cuda

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Shuffle with both transposes (first transpose, reshape, second
// transpose) as one gather kernel: output element i is at coordinates
// c of the output; the reshaped tensor R has R[p2[k]] = out[k], so c
// is the element of R at linear index sum c[k]*RS[p2[k]] (RS: R's
// contiguous strides); R shares its linear order with the first
// transpose's result T (T[k] = in[p1[k]]), whose element at
// coordinates t is the input's at sum t[k]*IS[p1[k]]. A shuffle with
// one transpose or none is a copy or an alias (chooseKind).
//
// The reshape dims need no parameter: the shape plan's dims of the
// output give them (R is the output un-permuted), whether they came
// from the attribute or from the shape input, which the kernel takes
// as a parameter (all inputs are) and does not read.
//
// Meta: [output rank r2, T's rank r1, out dims (r2), strides into R
// (r2), T dims (r1), strides into the input (r1)].
func init() {
	registerFamily(dsl.LayerShuffle, &kernelFamily{
		takes: func(l dsl.Layer) bool {
			s := l.(*dsl.ShuffleLayer)
			return !s.FirstTranspose().IsIdentity() && !s.SecondTranspose().IsIdentity()
		},
		lower: func(l dsl.Layer) (bool, string) {
			if _, ok := elementBits(l.Input(0).Type()); !ok || l.Input(0).Type() == dsl.Int4 {
				return false, "no shuffle kernel for " + l.Input(0).Type().String()
			}
			return true, ""
		},
		source: shuffleKernel,
		plan:   shufflePlan,
	})
}

func shuffleKernel(name string, l dsl.Layer) (string, bool) {
	t, ok := elementBits(l.Input(0).Type())
	if !ok || l.Input(0).Type() == dsl.Int4 {
		return "", false
	}
	shape := ""
	if s := l.Input(1); s != nil {
		c, ok := indexCType(s.Type())
		if !ok {
			return "", false
		}
		shape = fmt.Sprintf(", const %s* __restrict__ shape", c)
	}
	return fmt.Sprintf(`extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ in%s) {
  int r2 = (int)m[0], r1 = (int)m[1];
  const i64* od = m + 2;
  const i64* rs = od + r2;
  const i64* td = rs + r2;
  const i64* is = td + r1;
  if (n <= 2147483647LL) {
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < (unsigned)n; i += gridDim.x * blockDim.x) {
      int lin = offset32(i, r2, od, rs);
      out[i] = in[offset32((unsigned)lin, r1, td, is)];
    }
    return;
  }
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    out[i] = in[offset(offset(i, r2, od, rs), r1, td, is)];
  }
}
`, name, t, t, shape), true
}

func shufflePlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	s := l.(*dsl.ShuffleLayer)
	in, out := v.dims[l.Input(0)], v.dims[l.Output(0)]
	p1, p2 := s.FirstTranspose(), s.SecondTranspose()
	if len(p1) != len(in) || len(p2) != len(out) || volume(in) != volume(out) {
		return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: transposes %v and %v do not fit input dims %v and output dims %v", dsl.LayerString(l), []int(p1), []int(p2), in, out)
	}
	reshaped := make([]int64, len(p2))
	for k, a := range p2 {
		reshaped[a] = out[k]
	}
	rs := contiguous(reshaped)
	is := contiguous(in)
	m := []int64{int64(len(out)), int64(len(in))}
	m = append(m, out...)
	for _, a := range p2 {
		m = append(m, rs[a])
	}
	for _, a := range p1 {
		m = append(m, in[a])
	}
	for _, a := range p1 {
		m = append(m, is[a])
	}
	n := volume(out)
	return m, launch{n: n, grid: grid(n)}, nil
}
