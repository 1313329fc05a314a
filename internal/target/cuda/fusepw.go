package cuda

import (
	"fmt"
	"strings"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/cuda"
)

// Pointwise fusion. Chains and small DAGs of pointwise layers (a bias add
// and the five layers of an exported erf GELU, a residual add and its
// Cast) run as one generated kernel: each element is loaded once, every
// member computes in registers, and only the group's last tensor is
// stored. Intermediates are rounded to their own types as they would be
// stored, so the group computes exactly what its layers compute one by
// one (and what the CPU engine computes).

// isPointwise reports whether l's kernel is a pointwise one (see
// pointwiseExpr).
func isPointwise(l dsl.Layer) bool {
	if familyOf(l) != nil {
		return false // integer division and power (family_intarith.go)
	}
	switch l.(type) {
	case *dsl.ElementWiseLayer, *dsl.UnaryLayer, *dsl.ActivationLayer, *dsl.CastLayer,
		*dsl.SelectLayer, *dsl.ParametricReLULayer, *dsl.IdentityLayer:
		return true
	}
	return false
}

// pointwiseGroups assigns every kernel step that is pointwise to a group,
// named by its last member: a producer joins the group of its consumers
// when all of them are in one group, its output is no network output,
// and it has the group's static output dims (so every member runs over
// the same elements). kinds are the steps' kinds; the result maps a
// member's step to its group's last step, -1 for steps in no group.
func pointwiseGroups(layers []dsl.Layer, kinds []string) []int {
	_, consumers := stepsOf(layers)
	group := make([]int, len(layers))
	size, reads := map[int]int{}, map[int]int{} // by group: layers, layer inputs
	// joinable is the group layer i joins, or -1.
	joinable := func(i int) int {
		l := layers[i]
		out := l.Output(0)
		if out.IsNetworkOutput() || !out.Dims().IsStatic() {
			return -1
		}
		g := -1
		for _, c := range consumers[out] {
			switch {
			case group[c] < 0, g >= 0 && group[c] != g:
				return -1
			case g == -1:
				g = group[c]
			}
		}
		if g < 0 || !layers[g].Output(0).Dims().Equal(out.Dims()) || size[g] >= maxGroupLayers || reads[g]+l.NbInputs() > maxGroupReads {
			return -1
		}
		return g
	}
	for i := len(layers) - 1; i >= 0; i-- {
		group[i] = -1
		l := layers[i]
		if kinds[i] != kindKernel || !isPointwise(l) {
			continue
		}
		group[i] = i
		if g := joinable(i); g >= 0 {
			group[i] = g
		}
		size[group[i]]++
		reads[group[i]] += l.NbInputs()
	}
	return group
}

// A group stops growing at maxGroupLayers layers or maxGroupReads layer
// inputs: an exporter's unrolled max pooling is hundreds of elementwise
// maxima, and NVRTC takes minutes over a kernel of hundreds of inputs.
const (
	maxGroupLayers = 32
	maxGroupReads  = 48
)

// hasPointwiseKernel reports whether a pointwise layer has a generated
// kernel: an expression for its operation and types, and C types for its
// inputs and output.
func hasPointwiseKernel(l dsl.Layer) bool {
	if _, ok := pointwiseExpr(l); !ok {
		return false
	}
	for j := 0; j < l.NbInputs(); j++ {
		if t := l.Input(j); t != nil {
			if _, ok := typeOf(t.Type()); !ok {
				return false
			}
		}
	}
	_, ok := typeOf(l.Output(0).Type())
	return ok
}

// groupInputs are the tensors a group's members read that no member
// produces, each once, in the order the members read them: the fused
// kernel's inputs.
func groupInputs(members []dsl.Layer) []*dsl.Tensor {
	inGroup := map[dsl.Layer]bool{}
	for _, m := range members {
		inGroup[m] = true
	}
	var ins []*dsl.Tensor
	seen := map[*dsl.Tensor]bool{}
	for _, m := range members {
		for j := 0; j < m.NbInputs(); j++ {
			t := m.Input(j)
			if t == nil || seen[t] {
				continue
			}
			if p, _ := t.Producer(); p != nil && inGroup[p] {
				continue
			}
			seen[t] = true
			ins = append(ins, t)
		}
	}
	return ins
}

// pointwiseUnroll is the number of elements each thread of a pointwise
// kernel takes (see pointwiseLaunch).
const pointwiseUnroll = 4

// bakeMinElements is the least output size whose pointwise kernel has its
// shapes baked in: below it a kernel's time is its launch, and a kernel
// that reads its shapes from the metadata serves every layer of that
// computation and types, whatever the shapes (fewer kernels to compile).
const bakeMinElements = 1 << 15

// pointwiseLaunch is the launch of a pointwise kernel over n elements:
// pointwiseUnroll per thread on the 32-bit path.
func pointwiseLaunch(n int64) launch {
	per := int64(256)
	if n <= fits32 {
		per *= pointwiseUnroll
	}
	g := (n + per - 1) / per
	return launch{n: n, grid: cuda.Dim3{X: int(max(1, min(g, 65535*4)))}}
}

// pointwiseKernel writes the kernel of a pointwise group (one layer or
// more, in execution order): one thread per output element (grid-stride),
// each group input loaded in its index mode (see index.go) from the
// metadata [rank, dims, then per input: mode, strides], with 32-bit index
// arithmetic when the output has fewer than 2^31 elements.
func pointwiseKernel(name string, members []dsl.Layer) (string, bool) {
	ins := groupInputs(members)
	last := members[len(members)-1]
	oc, ok := typeOf(last.Output(0).Type())
	if !ok {
		return "", false
	}
	var params, setup []string
	slot := map[*dsl.Tensor]int{}
	for k, t := range ins {
		ic, ok := typeOf(t.Type())
		if !ok {
			return "", false
		}
		slot[t] = k
		params = append(params, fmt.Sprintf("const %s* __restrict__ in%d", ic.store, k))
		setup = append(setup, fmt.Sprintf("  const i64* s%[1]d = d + r + %[1]d * (r + 1) + 1; const int m%[1]d = (int)s%[1]d[-1];", k))
	}
	// The members' code; ref names group input k's loaded value, store
	// the statement that stores the last member's value.
	body := func(ref func(k int) string, store func(v string) string) string {
		var code strings.Builder
		local := map[*dsl.Tensor]string{}
		for mi, m := range members {
			expr, _ := pointwiseExpr(m)
			out := m.Output(0)
			c, _ := typeOf(out.Type())
			v := fmt.Sprintf("v%d", mi)
			fmt.Fprintf(&code, "        %s %s;\n        {\n", c.compute, v)
			for j := 0; j < m.NbInputs(); j++ {
				t := m.Input(j)
				ic, _ := typeOf(t.Type())
				src, ok := local[t]
				if !ok {
					src = ref(slot[t])
				}
				fmt.Fprintf(&code, "          %s x%d = %s;\n", ic.compute, j, src)
			}
			// A comparison computes i64 from float inputs: the result
			// takes the output's compute type.
			if c.compute == "float" {
				expr = "(float)(" + expr + ")"
			} else {
				expr = "(i64)(" + expr + ")"
			}
			fmt.Fprintf(&code, "          %s = %s;\n        }\n", v, expr)
			if mi < len(members)-1 {
				// Rounded as the unfused layer would store it.
				if r := c.loadf(c.savef(v)); r != v {
					fmt.Fprintf(&code, "        %s = %s;\n", v, r)
				}
			}
			local[out] = v
		}
		fmt.Fprintf(&code, "        %s;\n", store(oc.savef(local[last.Output(0)])))
		return code.String()
	}
	storeOut := func(v string) string { return "out[i] = " + v }
	for _, m := range members {
		if !hasPointwiseKernel(m) {
			return "", false
		}
	}
	// With static dims the index arithmetic is baked into the kernel:
	// each input's mode is a constant and its strided offset divides by
	// constants (multiplies and shifts). Without, the modes and strides
	// are read from the metadata.
	var static *pointwiseIndex
	if dims, ok := staticDims(append([]*dsl.Tensor{last.Output(0)}, ins...)); ok && volume(dims[0]) >= bakeMinElements {
		static = newPointwiseIndex(dims[0], dims[1:])
	}
	load := func(k int, narrow bool) string {
		ic, _ := typeOf(ins[k].Type())
		var idx string
		switch {
		case static != nil:
			idx = static.expr(k, narrow)
		case narrow:
			idx = fmt.Sprintf("(m%[1]d == %[2]d ? (int)i : (m%[1]d == %[3]d ? 0 : offset32(i, r, d, s%[1]d)))", k, indexSame, indexScalar)
		default:
			idx = fmt.Sprintf("(m%[1]d == %[2]d ? i : (m%[1]d == %[3]d ? 0 : offset(i, r, d, s%[1]d)))", k, indexSame, indexScalar)
		}
		return ic.loadf(fmt.Sprintf("in%d[%s]", k, idx))
	}
	// oneEach is the grid-stride loop of one element per thread.
	oneEach := func(narrow bool) string {
		var b strings.Builder
		if narrow {
			b.WriteString("    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < (unsigned)n; i += gridDim.x * blockDim.x) {\n")
		} else {
			b.WriteString("    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {\n")
		}
		for k, t := range ins {
			ic, _ := typeOf(t.Type())
			fmt.Fprintf(&b, "      const %s a%d = %s;\n", ic.compute, k, load(k, narrow))
		}
		b.WriteString(body(func(k int) string { return fmt.Sprintf("a%d", k) }, storeOut))
		b.WriteString("    }\n")
		return b.String()
	}
	var narrow strings.Builder
	if static != nil {
		// Each thread takes pointwiseUnroll elements a block apart, all
		// loads first, so enough bytes are in flight to reach the
		// memory's bandwidth with 2-byte elements. (Unrolled around the
		// metadata's mode branches, compilers unswitch the loop for
		// every combination of modes: minutes of NVRTC; so only here.)
		fmt.Fprintf(&narrow, "    const unsigned step = gridDim.x * blockDim.x * %du;\n", pointwiseUnroll)
		fmt.Fprintf(&narrow, "    for (unsigned base = blockIdx.x * blockDim.x * %du + threadIdx.x; base < (unsigned)n; base += step) {\n", pointwiseUnroll)
		for k, t := range ins {
			ic, _ := typeOf(t.Type())
			fmt.Fprintf(&narrow, "      %s a%d[%d];\n", ic.compute, k, pointwiseUnroll)
		}
		fmt.Fprintf(&narrow, "      #pragma unroll\n      for (int u = 0; u < %d; ++u) {\n        const unsigned i = base + u * blockDim.x;\n        if (i < (unsigned)n) {\n", pointwiseUnroll)
		for k := range ins {
			fmt.Fprintf(&narrow, "          a%d[u] = %s;\n", k, load(k, true))
		}
		narrow.WriteString("        }\n      }\n")
		fmt.Fprintf(&narrow, "      #pragma unroll\n      for (int u = 0; u < %d; ++u) {\n        const unsigned i = base + u * blockDim.x;\n        if (i >= (unsigned)n) break;\n", pointwiseUnroll)
		narrow.WriteString(body(func(k int) string { return fmt.Sprintf("a%d[u]", k) }, storeOut))
		narrow.WriteString("      }\n    }\n")
	} else {
		narrow.WriteString(oneEach(true))
	}
	narrowCode := narrow.String()
	if v := vectorWidth(static, ins, last.Output(0).Type()); v > 1 {
		narrowCode = vectorLoop(v, static, ins, last.Output(0).Type(), body) + " else {\n" + narrowCode + "    }\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "extern \"C\" __global__ void %s(const i64* __restrict__ meta, i64 n, %s* __restrict__ out, %s) {\n", name, oc.store, strings.Join(params, ", "))
	b.WriteString("  const int r = (int)meta[0]; const i64* d = meta + 1;\n")
	b.WriteString(strings.Join(setup, "\n") + "\n")
	fmt.Fprintf(&b, "  if (n <= %d) {\n", fits32)
	b.WriteString(narrowCode)
	b.WriteString("  } else {\n")
	b.WriteString(oneEach(false))
	b.WriteString("  }\n}\n")
	return b.String(), true
}

// staticDims returns the dims of ts when every one is static.
func staticDims(ts []*dsl.Tensor) ([][]int64, bool) {
	out := make([][]int64, len(ts))
	for k, t := range ts {
		d := t.Dims()
		if !d.IsStatic() {
			return nil, false
		}
		out[k] = d
	}
	return out, true
}

// pointwiseIndex is a pointwise kernel's metadata known when the kernel
// is written (static dims): collapsed dims and each input's mode and
// strides.
type pointwiseIndex struct {
	dims    []int64
	modes   []int64
	strides [][]int64
}

func newPointwiseIndex(out []int64, ins [][]int64) *pointwiseIndex {
	meta := broadcastMeta(out, ins)
	r := int(meta[0])
	p := &pointwiseIndex{dims: meta[1 : 1+r]}
	for k := range ins {
		at := 1 + r + k*(r+1)
		p.modes = append(p.modes, meta[at])
		p.strides = append(p.strides, meta[at+1:at+1+r])
	}
	return p
}

// expr is input k's offset for output index i as a C expression with
// constant divisors, in 32-bit (narrow) or 64-bit arithmetic.
func (p *pointwiseIndex) expr(k int, narrow bool) string {
	switch p.modes[k] {
	case indexSame:
		if narrow {
			return "(int)i"
		}
		return "i"
	case indexScalar:
		return "0"
	}
	suffix := "LL"
	if narrow {
		suffix = "u"
	}
	var terms []string
	div := int64(1)
	for a := len(p.dims) - 1; a >= 0; a-- {
		if s := p.strides[k][a]; s != 0 && p.dims[a] > 1 {
			c := "i"
			if div > 1 {
				c = fmt.Sprintf("(i / %d%s)", div, suffix)
			}
			if a > 0 {
				c = fmt.Sprintf("(%s %% %d%s)", c, p.dims[a], suffix)
			}
			terms = append(terms, fmt.Sprintf("%s * %d%s", c, s, suffix))
		}
		div *= p.dims[a]
	}
	if len(terms) == 0 {
		return "0"
	}
	e := strings.Join(terms, " + ")
	if narrow {
		return "(int)(" + e + ")"
	}
	return "(" + e + ")"
}

// Vector loads. With static dims whose innermost (collapsed) dim divides
// into v elements, each thread of a pointwise kernel takes v consecutive
// elements and moves them with one 16-byte access per input that is laid
// out like the output along that dim (and for the output): the bias +
// GELU of a transformer's feed-forward layer moves a third of the
// memory's bandwidth with 2-byte accesses. An input broadcast along the
// innermost dim is loaded once for the v elements, a scalar once per
// thread. Where a pointer is not
// aligned to its access (a caller's device buffer), the element path
// runs.

// vectorWidth is the number of elements a thread of the pointwise kernel
// takes (16 bytes of the widest type among its output and inputs), or 0
// where the kernel has no vector path: dynamic dims, an innermost dim
// that does not divide, or an input strided along it.
func vectorWidth(static *pointwiseIndex, ins []*dsl.Tensor, out dsl.DataType) int {
	if static == nil || len(static.dims) == 0 {
		return 0
	}
	widest := elementBytes(out)
	for _, t := range ins {
		widest = max(widest, elementBytes(t.Type()))
	}
	v := int64(16 / widest)
	last := len(static.dims) - 1
	if v < 2 || static.dims[last]%v != 0 {
		return 0
	}
	// Contiguous inputs have stride 1 or 0 (broadcast) along the
	// innermost collapsed dim; anything else takes the element path.
	for k := range ins {
		if static.modes[k] == indexStrided && static.strides[k][last] > 1 {
			return 0
		}
	}
	return int(v)
}

// vectorAccess is the C type of an access of n bytes.
func vectorAccess(n int64) string {
	switch n {
	case 16:
		return "uint4"
	case 8:
		return "uint2"
	case 4:
		return "unsigned int"
	case 2:
		return "unsigned short"
	}
	return "unsigned char"
}

// vectorLoop writes the vector path of a pointwise kernel: an if on the
// alignment of the pointers it accesses by vectors, whose body is the
// grid-stride loop over groups of v elements.
func vectorLoop(v int, static *pointwiseIndex, ins []*dsl.Tensor, out dsl.DataType, body func(ref func(k int) string, store func(string) string) string) string {
	oc, _ := typeOf(out)
	last := len(static.dims) - 1
	// perVector: laid out like the output along the innermost dim; the
	// others (scalars, broadcasts along it) take one value per group.
	perVector := make([]bool, len(ins))
	outBytes := int64(v) * elementBytes(out)
	aligned := []string{fmt.Sprintf("(unsigned long long)out %% %d == 0", outBytes)}
	for k, t := range ins {
		if m := static.modes[k]; m == indexSame || m == indexStrided && static.strides[k][last] == 1 {
			perVector[k] = true
			aligned = append(aligned, fmt.Sprintf("(unsigned long long)in%d %% %d == 0", k, int64(v)*elementBytes(t.Type())))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "    if (%s) {\n", strings.Join(aligned, " && "))
	fmt.Fprintf(&b, "    for (unsigned g = blockIdx.x * blockDim.x + threadIdx.x; g < (unsigned)n / %du; g += gridDim.x * blockDim.x) {\n", v)
	fmt.Fprintf(&b, "      const unsigned i0 = g * %du;\n", v)
	for k, t := range ins {
		ic, _ := typeOf(t.Type())
		fmt.Fprintf(&b, "      %s a%d[%d];\n", ic.compute, k, v)
		if perVector[k] {
			access := vectorAccess(int64(v) * elementBytes(t.Type()))
			fmt.Fprintf(&b, "      { const unsigned i = i0; const %s raw = *reinterpret_cast<const %s*>(in%d + %s); const %s* e = reinterpret_cast<const %s*>(&raw);\n", access, access, k, static.expr(k, true), ic.store, ic.store)
			fmt.Fprintf(&b, "        #pragma unroll\n        for (int u = 0; u < %d; ++u) a%d[u] = %s; }\n", v, k, ic.loadf("e[u]"))
		} else {
			fmt.Fprintf(&b, "      { const unsigned i = i0; const %s e = %s;\n", ic.compute, ic.loadf(fmt.Sprintf("in%d[%s]", k, static.expr(k, true))))
			fmt.Fprintf(&b, "        #pragma unroll\n        for (int u = 0; u < %d; ++u) a%d[u] = e; }\n", v, k)
		}
	}
	access := vectorAccess(outBytes)
	fmt.Fprintf(&b, "      __align__(16) %s o[%d];\n", oc.store, v)
	fmt.Fprintf(&b, "      #pragma unroll\n      for (int u = 0; u < %d; ++u) {\n", v)
	b.WriteString(body(func(k int) string { return fmt.Sprintf("a%d[u]", k) }, func(x string) string { return "o[u] = " + x }))
	b.WriteString("      }\n")
	fmt.Fprintf(&b, "      *reinterpret_cast<%s*>(out + i0) = *reinterpret_cast<const %s*>(o);\n", access, access)
	b.WriteString("    }\n    }")
	return b.String()
}
