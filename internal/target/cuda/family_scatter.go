package cuda

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Scatter, both modes: the output is data with updates written where the
// indices say. The CPU engine writes the updates one after another in
// row-major order of the indices, so of several updates of one element
// the last wins; here every output element (or slice) is owned by one
// thread (or warp) that finds that last update itself, so the result is
// the CPU engine's, duplicates included, and needs no atomics.
//
// Indices are checked: the kernel records the first index out of range
// in the CPU engine's order (see firstBadIndexLoop), which becomes the
// CPU engine's OutOfRange error.
//
// ScatterElement meta: [rank, axis, A = data's axis dim, indices count,
// bound = A, data dims (rank), indices dims (rank), indices strides (rank)].
// One thread per output element looks at the indices along the axis at its
// own coordinates (there are indices dims[axis] of them), last first.
//
// ScatterND meta: [k, tuples, slices, chunk, part, parts, indices count,
// data dims[:k] (k), slice strides of data dims[:k] (k)]. The output is
// slices x chunk elements (slices = volume(data dims[:k]), chunk =
// volume(data dims[k:])); each slice is split in parts of `part` elements
// and a warp does one (slice, part): its lanes look at every index tuple
// for the last one naming the slice, then copy the part from that
// update's slice, or from data where no tuple names it.
func init() {
	registerFamily(dsl.LayerScatter, &kernelFamily{
		lower: func(l dsl.Layer) (bool, string) {
			if _, ok := moveBits(l.Input(0).Type()); !ok {
				return false, "no scatter kernel for " + l.Input(0).Type().String()
			}
			if _, ok := indexCType(l.Input(1).Type()); !ok {
				return false, "no scatter kernel for indices of " + l.Input(1).Type().String()
			}
			switch l.(*dsl.ScatterLayer).Mode() {
			case dsl.ScatterElement, dsl.ScatterND:
				return true, ""
			}
			return false, "scatter mode " + l.(*dsl.ScatterLayer).Mode().String()
		},
		source: scatterKernel,
		plan:   scatterPlan,
		fault:  scatterFault,
	})
}

// moveBits is elementBits for the types a kernel can move whole elements
// of (not the packed Int4).
func moveBits(dt dsl.DataType) (string, bool) {
	if dt.Bits() < 8 {
		return "", false
	}
	return elementBits(dt)
}

// scatterNDPart is how many elements of a slice one warp copies.
const scatterNDPart = 1024

// firstBadIndexLoop is the C loop that checks indices idx[0, count): the
// index at position p is valid in [-B, B) with B = bounds[p % period].
// The CPU engine checks the positions in order and fails on the first bad
// one, so only that one is recorded: a thread that finds a bad index
// looks back to the previous bad one and records its own only when there
// is none. Each thread looks back at most to the bad index before its
// own, so the checks cost O(count) in all, faults or not.
func firstBadIndexLoop(count, period, bounds string) string {
	return fmt.Sprintf(`  for (i64 p = tid; p < %[1]s; p += nthr) {
    i64 v = (i64)idx[p], B = %[3]s[p %% %[2]s];
    if (v >= -B && v < B) continue;
    i64 q = p - 1;
    for (; q >= 0; --q) { i64 w = (i64)idx[q], C = %[3]s[q %% %[2]s]; if (w < -C || w >= C) break; }
    if (q < 0) trtc_fault(fault, p, v);
  }
`, count, period, bounds)
}

func scatterKernel(name string, l dsl.Layer) (string, bool) {
	t, ok1 := moveBits(l.Input(0).Type())
	ix, ok2 := indexCType(l.Input(1).Type())
	if !ok1 || !ok2 {
		return "", false
	}
	head := fmt.Sprintf(`extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ data, const %s* __restrict__ idx, const %s* __restrict__ upd) {
  const i64 tid = (i64)blockIdx.x * blockDim.x + threadIdx.x, nthr = (i64)gridDim.x * blockDim.x;
`, name, t, t, ix, t)
	switch l.(*dsl.ScatterLayer).Mode() {
	case dsl.ScatterElement:
		return head + `  int r = (int)m[0], axis = (int)m[1];
  i64 A = m[2];
  const i64* ds = m + 5;
  const i64* is = m + 5 + r;
  const i64* ss = m + 5 + 2 * r;
` + firstBadIndexLoop("m[3]", "1", "(m + 4)") + `  for (i64 o = tid; o < n; o += nthr) {
    i64 rem = o, p0 = 0, ca = 0;
    bool inside = true;
    for (int d = r - 1; d >= 0; --d) {
      i64 c = rem % ds[d]; rem /= ds[d];
      if (d == axis) ca = c;
      else if (c >= is[d]) inside = false;
      else p0 += c * ss[d];
    }
    i64 src = -1;
    if (inside) {
      for (i64 j = is[axis] - 1; j >= 0; --j) {
        i64 p = p0 + j * ss[axis], v = (i64)idx[p];
        if (v < -A || v >= A) continue;
        if (v < 0) v += A;
        if (v == ca) { src = p; break; }
      }
    }
    out[o] = src >= 0 ? upd[src] : data[o];
  }
}
`, true
	case dsl.ScatterND:
		return head + `  int k = (int)m[0];
  i64 T = m[1], P = m[5], W = m[4], chunk = m[3];
  const i64* bd = m + 7;
  const i64* st = m + 7 + k;
` + firstBadIndexLoop("m[6]", "k", "bd") + `  const int lane = threadIdx.x & 31;
  const i64 warp = tid >> 5, nwarps = nthr >> 5;
  for (i64 u = warp; u < n; u += nwarps) {
    i64 s = u / P, lo = (u % P) * W;
    i64 best = -1;
    for (i64 t = lane; t < T; t += 32) {
      i64 g = 0;
      bool ok = true;
      for (int j = 0; j < k; ++j) {
        i64 v = (i64)idx[t * k + j], B = bd[j];
        if (v < -B || v >= B) { ok = false; break; }
        if (v < 0) v += B;
        g += v * st[j];
      }
      if (ok && g == s) best = t;
    }
    for (int o = 16; o > 0; o >>= 1) { i64 b = __shfl_xor_sync(0xffffffffu, best, o); if (b > best) best = b; }
    i64 hi = lo + W < chunk ? lo + W : chunk;
    for (i64 e = lo + lane; e < hi; e += 32) out[s * chunk + e] = best >= 0 ? upd[best * chunk + e] : data[s * chunk + e];
  }
}
`, true
	}
	return "", false
}

func scatterPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	s := l.(*dsl.ScatterLayer)
	ds, is, us := v.dims[l.Input(0)], v.dims[l.Input(1)], v.dims[l.Input(2)]
	bad := func(code diag.Code, format string, a ...any) ([]int64, launch, error) {
		return nil, launch{}, diag.Errorf(code, "%s: "+format, append([]any{dsl.LayerString(l)}, a...)...)
	}
	switch s.Mode() {
	case dsl.ScatterElement:
		axis, ok := dsl.NormalizeAxis(s.Axis(), len(ds))
		if !ok || len(is) != len(ds) {
			return bad(diag.InvalidNode, "indices of rank %d for data of rank %d, axis %d", len(is), len(ds), s.Axis())
		}
		if fmt.Sprint(is) != fmt.Sprint(us) {
			return bad(diag.ShapeMismatch, "at run time, updates %v must have the shape of the indices %v", us, is)
		}
		for d := range is {
			if d != axis && is[d] > ds[d] {
				return bad(diag.ShapeMismatch, "at run time, indices %v are larger than data %v along axis %d", is, ds, d)
			}
		}
		r := int64(len(ds))
		m := []int64{r, int64(axis), ds[axis], volume(is), ds[axis]}
		m = append(m, ds...)
		m = append(m, is...)
		m = append(m, contiguous(is)...)
		n := volume(ds)
		return m, launch{n: n, grid: grid(max(n, volume(is)))}, nil
	case dsl.ScatterND:
		q := len(is)
		if q < 1 || is[q-1] < 0 || is[q-1] > int64(len(ds)) {
			return bad(diag.InvalidNode, "indices %v for data %v", is, ds)
		}
		k := int(is[q-1])
		want := append(append([]int64{}, is[:q-1]...), ds[k:]...)
		if fmt.Sprint(us) != fmt.Sprint(want) {
			return bad(diag.ShapeMismatch, "at run time, updates are %v; with indices %v and data %v they must be %v", us, is, ds, want)
		}
		slices, chunk := volume(ds[:k]), volume(ds[k:])
		parts := (chunk + scatterNDPart - 1) / scatterNDPart
		m := []int64{int64(k), volume(is[:q-1]), slices, chunk, scatterNDPart, parts, volume(is)}
		m = append(m, ds[:k]...)
		m = append(m, contiguous(ds[:k])...)
		n := slices * parts
		return m, launch{n: n, grid: grid(max(32*n, volume(is)))}, nil
	}
	return bad(diag.InvalidNode, "scatter mode %v", s.Mode())
}

// scatterFault is the CPU engine's error for the index at pos.
func scatterFault(l dsl.Layer, v shapeValues, pos, val int64) error {
	s := l.(*dsl.ScatterLayer)
	ds, is := v.dims[l.Input(0)], v.dims[l.Input(1)]
	if s.Mode() == dsl.ScatterElement {
		axis, _ := dsl.NormalizeAxis(s.Axis(), len(ds))
		return indexError(l, pos, val, axis, ds[axis])
	}
	k := is[len(is)-1]
	if k <= 0 {
		return nil
	}
	j := int(pos % k)
	return indexError(l, pos, val, j, ds[j])
}
