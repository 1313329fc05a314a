package cuda

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
)

// Slice in the sample modes Fill, Wrap, Clamp and Reflect (an ONNX Pad
// imports as a Fill slice): each output element reads the input at
// start + j*stride along every axis, the coordinate mapped by the mode as
// dsl.SampleMode.MapCoord maps it; under Fill a coordinate outside the
// input gives the fill value (input 4, read on the device, so it may come
// from data; 0 without it). Elements move as their bits, so every type of
// whole bytes works. The strict-bounds mode is a strided copy (kindCopy).
//
// Meta: [rank, has fill, out dims (rank), in dims (rank), start (rank),
// stride (rank), in strides (rank)].
func init() {
	registerFamily(dsl.LayerSlice, &kernelFamily{
		takes:  func(l dsl.Layer) bool { return l.(*dsl.SliceLayer).Mode() != dsl.SampleStrictBounds },
		lower:  sliceLower,
		source: sliceKernel,
		plan:   slicePlan,
		params: sliceParamInputs,
	})
}

// wholeBytes is the C type that moves one element of dt as its bits, for
// types of whole bytes (not packed int4).
func wholeBytes(dt dsl.DataType) (string, bool) {
	if dt.Bits() < 8 || dt.Bits()%8 != 0 {
		return "", false
	}
	return elementBits(dt)
}

func sliceLower(l dsl.Layer) (bool, string) {
	if _, ok := wholeBytes(l.Input(0).Type()); !ok {
		return false, "no slice kernel for " + l.Input(0).Type().String()
	}
	if f := l.Input(4); f != nil && f.Type() != l.Input(0).Type() {
		return false, "a fill value of another type than the input"
	}
	return true, ""
}

// sliceMapCoord is dsl.SampleMode.MapCoord for the modes the kernel takes,
// as a C function of coordinate c on an axis of length n (n > 0 except
// under Fill): the index read, or -1 for the fill value.
var sliceMapCoord = map[dsl.SampleMode]string{
	dsl.SampleFill:  `return (c < 0 || c >= n) ? -1 : c;`,
	dsl.SampleWrap:  `return ((c % n) + n) % n;`,
	dsl.SampleClamp: `return c < 0 ? 0 : (c >= n ? n - 1 : c);`,
	dsl.SampleReflect: `if (n == 1) return 0;
  i64 p = 2 * (n - 1);
  i64 r = ((c % p) + p) % p;
  return r >= n ? p - r : r;`,
}

func sliceKernel(name string, l dsl.Layer) (string, bool) {
	s := l.(*dsl.SliceLayer)
	t, ok := wholeBytes(l.Input(0).Type())
	mapc, ok2 := sliceMapCoord[s.Mode()]
	if !ok || !ok2 {
		return "", false
	}
	// Every input that is set is a parameter of the kernel, in order; it
	// reads the data (0) and the fill value (4).
	var params []string
	fill := "0"
	for j := 0; j < l.NbInputs(); j++ {
		if l.Input(j) == nil {
			continue
		}
		switch j {
		case 0:
			params = append(params, fmt.Sprintf("const %s* __restrict__ in", t))
		case 4:
			params = append(params, fmt.Sprintf("const %s* __restrict__ fillv", t))
			fill = "(m[1] ? fillv[0] : 0)"
		default:
			params = append(params, fmt.Sprintf("const void* __restrict__ p%d", j))
		}
	}
	fn := name + "_map" // renamed with the kernel (addKernel)
	return fmt.Sprintf(`__device__ __forceinline__ i64 %s(i64 c, i64 n) {
  %s
}
extern "C" __global__ void %s(const i64* __restrict__ m, i64 n, unsigned long long* fault, %s* __restrict__ out, %s) {
  int r = (int)m[0];
  const i64* od = m + 2;
  const i64* id = od + r;
  const i64* st = id + r;
  const i64* sd = st + r;
  const i64* is = sd + r;
  const %s fv = %s;
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 rem = i, off = 0;
    for (int d = r - 1; d >= 0; --d) {
      i64 j = rem %% od[d];
      rem /= od[d];
      // start + j*stride, wrapping on overflow as Go's int64 does.
      i64 c = (i64)((unsigned long long)st[d] + (unsigned long long)j * (unsigned long long)sd[d]);
      i64 k = %s(c, id[d]);
      if (k < 0) { off = -1; break; }
      off += k * is[d];
    }
    out[i] = off < 0 ? fv : in[off];
  }
}
`, fn, mapc, name, t, strings.Join(params, ", "), t, fill, fn), true
}

// sliceParamValue is parameter input i's value when the input is set (from
// the shape plan), else the layer's own dims.
func sliceParamValue(l *dsl.SliceLayer, v shapeValues, i int, static dsl.Dims) ([]int64, error) {
	t := l.Input(i)
	if t == nil {
		return static, nil
	}
	vals, ok := v.values[t]
	if !ok {
		return nil, diag.Errorf(diag.Internal, "%s: the value of parameter %q is not known when the launch is planned", dsl.LayerString(l), t.Name())
	}
	if vals == nil {
		vals = []int64{} // a tensor of no elements: no entries, not "every axis"
	}
	return vals, nil
}

func slicePlan(l dsl.Layer, v shapeValues) ([]int64, launch, error) {
	s := l.(*dsl.SliceLayer)
	in, out := v.dims[l.Input(0)], v.dims[l.Output(0)]
	var ps [4][]int64
	sizeUnknown := false
	for k, p := range []struct {
		i      int
		static dsl.Dims
	}{{1, s.Start()}, {2, s.Size()}, {3, s.Stride()}, {5, s.Axes()}} {
		vals, err := sliceParamValue(s, v, p.i, p.static)
		if err != nil && p.i == 2 && len(out) == len(in) {
			sizeUnknown = true // the planned output dims say it
			continue
		}
		if err != nil {
			return nil, launch{}, err
		}
		ps[k] = vals
	}
	if sizeUnknown {
		ps[1] = sizeFromOutput(ps[3], out)
	}
	start, size, stride, err := dsl.SliceWindow(in, ps[0], ps[1], ps[2], ps[3])
	if err != nil {
		msg := err.Error()
		if e, ok := err.(*diag.Error); ok {
			msg = e.Msg
		}
		return nil, launch{}, diag.Errorf(diag.CodeOf(err), "%s: at run time: %s", dsl.LayerString(l), msg)
	}
	if len(out) != len(in) || fmt.Sprint(size) != fmt.Sprint(out) {
		return nil, launch{}, diag.Errorf(diag.Internal, "%s: the slice window %v is not the planned output %v", dsl.LayerString(l), size, out)
	}
	mode := s.Mode()
	for a := range in {
		// The CPU engine maps every output coordinate; only an empty
		// axis has none to map to.
		if size[a] > 0 {
			if _, ok := mode.MapCoord(start[a], in[a]); !ok {
				return nil, launch{}, diag.Errorf(diag.OutOfRange, "%s: at run time, sample mode %v cannot produce elements from axis %d of length 0 (input %v)", dsl.LayerString(l), mode, a, in)
			}
		}
	}
	hasFill := int64(0)
	if f := l.Input(4); f != nil && volume(v.dims[f]) > 0 {
		hasFill = 1
	}
	r := len(in)
	m := make([]int64, 0, 2+5*r)
	m = append(m, int64(r), hasFill)
	m = append(m, out...)
	m = append(m, in...)
	m = append(m, start...)
	m = append(m, stride...)
	m = append(m, contiguous(in)...)
	n := volume(out)
	return m, launch{n: n, grid: grid(n)}, nil
}

// sizeFromOutput is a slice's size parameter read back from its planned
// output dims: one entry per listed axis (nil axes: every axis). An axis
// out of range gives no entry; SliceWindow reports it.
func sizeFromOutput(axes, out []int64) []int64 {
	if axes == nil {
		return append([]int64{}, out...)
	}
	size := []int64{}
	for _, a := range axes {
		if a < 0 {
			a += int64(len(out))
		}
		if a >= 0 && a < int64(len(out)) {
			size = append(size, out[a])
		}
	}
	return size
}
