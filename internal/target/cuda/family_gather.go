package cuda

import (
	"fmt"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// GatherElements (GatherElement mode): each output element is the data
// element at the output's own coordinates with the gather axis replaced
// by the index there. Indices are checked: one out of range records a
// fault (the CPU engine's OutOfRange error) and writes 0. The default mode
// is the fixed gather kernel (kindGather).
//
// Meta: [rank, axis, data's axis dim, indices dims (rank), data strides (rank)].
func init() {
	// GatherND and the default mode with a batch dim are in
	// family_gathernd.go: one family per layer type, dispatched by mode.
	registerFamily(dsl.LayerGather, &kernelFamily{
		takes: func(l dsl.Layer) bool { return l.(*dsl.GatherLayer).Mode() == dsl.GatherElement || gatherNDTakes(l) },
		lower: func(l dsl.Layer) (bool, string) {
			if gatherNDTakes(l) {
				return gatherNDLower(l)
			}
			if _, ok := elementBits(l.Input(0).Type()); !ok {
				return false, "no gather kernel for " + l.Input(0).Type().String()
			}
			return true, ""
		},
		source: func(name string, l dsl.Layer) (string, bool) {
			if gatherNDTakes(l) {
				return gatherNDKernel(name, l)
			}
			return gatherElementsKernel(name, l)
		},
		plan: func(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
			if gatherNDTakes(l) {
				return gatherNDPlan(l, v)
			}
			return gatherElementsPlan(l, v)
		},
		fault: func(l dsl.Layer, v shapeValues, pos, val int64) error {
			if gatherNDTakes(l) {
				return gatherNDFault(l, v, pos, val)
			}
			d := v.dims[l.Input(0)]
			a, _ := dsl.NormalizeAxis(l.(*dsl.GatherLayer).GatherAxis(), len(d))
			return indexError(l, pos, val, a, d[a])
		},
	})
}

// elementBits is the C type that moves one element of dt as its bits.
func elementBits(dt dsl.DataType) (string, bool) {
	switch max(dt.Bits()/8, 1) {
	case 1:
		return "unsigned char", true
	case 2:
		return "unsigned short", true
	case 4:
		return "unsigned int", true
	case 8:
		return "unsigned long long", true
	}
	return "", false
}

// indexCType is the C type of an int32 or int64 index tensor.
func indexCType(dt dsl.DataType) (string, bool) {
	switch dt {
	case dsl.Int32:
		return "int", true
	case dsl.Int64:
		return "i64", true
	}
	return "", false
}

func gatherElementsKernel(name string, l dsl.Layer) (string, bool) {
	t, ok1 := elementBits(l.Input(0).Type())
	ix, ok2 := indexCType(l.Input(1).Type())
	if !ok1 || !ok2 {
		return "", false
	}
	return fmt.Sprintf(`extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, const %s* __restrict__ data, const %s* __restrict__ idx) {
  int r = (int)m[0], axis = (int)m[1];
  i64 A = m[2];
  const i64* is = m + 3;
  const i64* ds = m + 3 + r;
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 k = (i64)idx[i];
    if (k < -A || k >= A) { trtc_fault(fault, i, k); out[i] = 0; continue; }
    if (k < 0) k += A;
    i64 rem = i, off = 0;
    for (int d = r - 1; d >= 0; --d) { i64 c = rem %% is[d]; rem /= is[d]; off += (d == axis ? k : c) * ds[d]; }
    out[i] = data[off];
  }
}
`, name, t, t, ix), true
}

func gatherElementsPlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	ds, is := v.dims[l.Input(0)], v.dims[l.Input(1)]
	axis, ok := dsl.NormalizeAxis(l.(*dsl.GatherLayer).GatherAxis(), len(ds))
	if !ok || len(is) != len(ds) {
		return nil, launch{}, diag.Errorf(diag.InvalidNode, "%s: indices of rank %d for data of rank %d, axis %d", dsl.LayerString(l), len(is), len(ds), l.(*dsl.GatherLayer).GatherAxis())
	}
	for d := range is {
		if d != axis && is[d] > ds[d] {
			return nil, launch{}, diag.Errorf(diag.ShapeMismatch, "%s: at run time, indices %v are larger than data %v along axis %d, which is not the gather axis", dsl.LayerString(l), is, ds, d)
		}
	}
	m := append([]int64{int64(len(ds)), int64(axis), ds[axis]}, is...)
	m = append(m, contiguous(ds)...)
	n := volume(is)
	return m, launch{n: n, grid: grid(n)}, nil
}
