package cuda

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// GatherND, and the default gather with one batch dim (NbElementWiseDims
// 1), as kernels of the gather family (family_gather.go dispatches to
// these by mode). One thread per output element; indices are checked and
// the first one out of range in the CPU engine's order is recorded
// (firstBadIndexLoop), the element itself is written as 0.
//
// GatherND meta: [k, chunk, tuples per batch, batch size, indices count,
// data dims[b:b+k] (k), data strides[b:b+k] (k)]: output element o is
// element o % chunk of the slice that index tuple o / chunk names in its
// batch (o / chunk / tuples); chunk = volume(data dims[b+k:]).
//
// Default mode, one batch dim, meta: [A = data's axis dim, inner, indices
// per batch, outer, data batch stride, indices batch stride, indices to
// check, A]: the output is [batch, outer, indices per batch, inner] in
// row-major order, as the CPU engine loops; a batch stride is 0 where
// that input's dim 0 is 1 and broadcasts.

// gatherNDTakes reports whether the gather family runs l as one of this
// file's kernels (the default mode without a batch dim is kindGather,
// GatherElement the family's own kernel).
func gatherNDTakes(l dsl.Layer) bool {
	g := l.(*dsl.GatherLayer)
	return g.Mode() == dsl.GatherND || g.Mode() == dsl.GatherDefault && g.NbElementWiseDims() != 0
}

func gatherNDLower(l dsl.Layer) (bool, string) {
	if _, ok := moveBits(l.Input(0).Type()); !ok {
		return false, "no gather kernel for " + l.Input(0).Type().String()
	}
	if _, ok := indexCType(l.Input(1).Type()); !ok {
		return false, "no gather kernel for indices of " + l.Input(1).Type().String()
	}
	return true, ""
}

func gatherNDKernel(name string, l dsl.Layer) (string, bool) {
	t, ok1 := moveBits(l.Input(0).Type())
	ix, ok2 := indexCType(l.Input(1).Type())
	if !ok1 || !ok2 {
		return "", false
	}
	head := fmt.Sprintf(`extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ data, const %s* __restrict__ idx) {
  const i64 tid = (i64)blockIdx.x * blockDim.x + threadIdx.x, nthr = (i64)gridDim.x * blockDim.x;
`, name, t, t, ix)
	if l.(*dsl.GatherLayer).Mode() == dsl.GatherND {
		return head + `  int k = (int)m[0];
  i64 chunk = m[1], T = m[2], bs = m[3];
  const i64* bd = m + 5;
  const i64* st = m + 5 + k;
` + firstBadIndexLoop("m[4]", "k", "bd") + `  for (i64 o = tid; o < n; o += nthr) {
    i64 g = o / chunk, off = (g / T) * bs + o % chunk;
    bool ok = true;
    for (int j = 0; j < k; ++j) {
      i64 v = (i64)idx[g * k + j], B = bd[j];
      if (v < -B || v >= B) { ok = false; break; }
      if (v < 0) v += B;
      off += v * st[j];
    }
    out[o] = ok ? data[off] : 0;
  }
}
`, true
	}
	return head + `  i64 A = m[0], inner = m[1], K = m[2], outer = m[3], db = m[4], ib = m[5];
` + firstBadIndexLoop("m[6]", "1", "(m + 7)") + `  for (i64 o = tid; o < n; o += nthr) {
    i64 ii = o % inner, r = o / inner;
    i64 kk = r % K; r /= K;
    i64 oo = r % outer, bt = r / outer;
    i64 v = (i64)idx[bt * ib + kk];
    if (v < -A || v >= A) { out[o] = 0; continue; }
    if (v < 0) v += A;
    out[o] = data[bt * db + (oo * A + v) * inner + ii];
  }
}
`, true
}

func gatherNDPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	g := l.(*dsl.GatherLayer)
	ds, is := v.dims[l.Input(0)], v.dims[l.Input(1)]
	b, q := g.NbElementWiseDims(), len(is)
	bad := func(code diag.Code, format string, a ...any) ([]int64, launch, error) {
		return nil, launch{}, diag.Errorf(code, "%s: "+format, append([]any{dsl.LayerString(l)}, a...)...)
	}
	if g.Mode() == dsl.GatherND {
		if q < 1 || b < 0 || b >= len(ds) || b >= q || is[q-1] < 0 || is[q-1] > int64(len(ds)-b) {
			return bad(diag.InvalidNode, "indices %v with %d batch dims for data %v", is, b, ds)
		}
		k := int(is[q-1])
		for d := 0; d < b; d++ {
			if ds[d] != is[d] {
				return bad(diag.ShapeMismatch, "at run time, batch dim %d differs: data %v, indices %v", d, ds, is)
			}
		}
		chunk := volume(ds[b+k:])
		m := []int64{int64(k), chunk, volume(is[b : q-1]), volume(ds[b:]), volume(is)}
		m = append(m, ds[b:b+k]...)
		m = append(m, contiguous(ds)[b:b+k]...)
		n := volume(is[:q-1]) * chunk
		return m, launch{n: n, grid: grid(max(n, volume(is)))}, nil
	}
	axis, ok := dsl.NormalizeAxis(g.GatherAxis(), len(ds))
	if b != 1 || !ok || axis < 1 || q < 1 {
		return bad(diag.InvalidNode, "a default gather along axis %d with %d batch dims, data %v, indices %v", g.GatherAxis(), b, ds, is)
	}
	bd, err := dsl.BroadcastDims(dsl.Dims{ds[0]}, dsl.Dims{is[0]})
	if err != nil {
		return bad(diag.ShapeMismatch, "at run time, the elementwise dim of data (%d) and indices (%d) cannot broadcast", ds[0], is[0])
	}
	batch, outer := bd[0], volume(ds[1:axis])
	var db, ib int64
	if ds[0] != 1 {
		db = volume(ds[1:])
	}
	if is[0] != 1 {
		ib = volume(is[1:])
	}
	check := volume(is)
	if batch*outer == 0 {
		check = 0 // the CPU engine checks indices as it uses them: here none
	}
	m := []int64{ds[axis], volume(ds[axis+1:]), volume(is[1:]), outer, db, ib, check, ds[axis]}
	n := batch * outer * volume(is[1:]) * volume(ds[axis+1:])
	return m, launch{n: n, grid: grid(max(n, check))}, nil
}

// gatherNDFault is the CPU engine's error for the index at pos.
func gatherNDFault(l dsl.Layer, v shapeValues, pos, val int64) error {
	g := l.(*dsl.GatherLayer)
	ds, is := v.dims[l.Input(0)], v.dims[l.Input(1)]
	if g.Mode() == dsl.GatherND {
		k := is[len(is)-1]
		if k <= 0 {
			return nil
		}
		a := g.NbElementWiseDims() + int(pos%k)
		return indexError(l, pos, val, a, ds[a])
	}
	a, _ := dsl.NormalizeAxis(g.GatherAxis(), len(ds))
	return indexError(l, pos, val, a, ds[a])
}
