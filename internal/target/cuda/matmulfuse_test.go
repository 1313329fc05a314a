package cuda

import (
	"slices"
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// TestBiasAddsFoldIntoMatmuls checks which bias adds the lowering folds
// into their matrix multiply's epilogue: a constant vector along the last
// dim, as either operand of the Add; not an add whose other operand is no
// constant, is a matrix, or follows a product read twice.
func TestBiasAddsFoldIntoMatmuls(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float16, dsl.Dims{-1, 32, 64})
	w := net.AddConstant(dsl.Dims{1, 64, 64}, dsl.NewWeights(tensor.New(dsl.Float16, 1, 64, 64))).Output(0)
	vec := net.AddConstant(dsl.Dims{1, 1, 64}, dsl.NewWeights(tensor.New(dsl.Float16, 1, 1, 64))).Output(0)
	mat := net.AddConstant(dsl.Dims{1, 32, 64}, dsl.NewWeights(tensor.New(dsl.Float16, 1, 32, 64))).Output(0)
	mm := func(in *dsl.Tensor) dsl.Layer {
		return net.AddMatrixMultiply(in, dsl.MatrixOpNone, w, dsl.MatrixOpNone)
	}
	m1 := mm(x)
	folded := net.AddElementWise(m1.Output(0), vec, dsl.ElementWiseSum)
	m2 := mm(folded.Output(0))
	foldedFirst := net.AddElementWise(vec, m2.Output(0), dsl.ElementWiseSum)
	m3 := mm(foldedFirst.Output(0))
	matrix := net.AddElementWise(m3.Output(0), mat, dsl.ElementWiseSum)
	m4 := mm(matrix.Output(0))
	notConst := net.AddElementWise(m4.Output(0), x, dsl.ElementWiseSum)
	m5 := mm(notConst.Output(0))
	twice := net.AddElementWise(m5.Output(0), vec, dsl.ElementWiseSum)
	y := net.AddElementWise(twice.Output(0), m5.Output(0), dsl.ElementWiseProd).Output(0)
	y.SetName("y")
	net.MarkOutput(y)
	p, _, layers := lowered(t, net)
	at := func(l dsl.Layer) int { return slices.Index(layers, l) }
	for _, c := range []struct {
		mm, add dsl.Layer
		fold    bool
	}{{m1, folded, true}, {m2, foldedFirst, true}, {m3, matrix, false}, {m4, notConst, false}, {m5, twice, false}} {
		s, a := p.Steps[at(c.mm)], p.Steps[at(c.add)]
		fused := s.Epilogue == at(c.add)+1 && a.Kind == kindFused && a.Into == at(c.mm)
		if fused != c.fold {
			t.Errorf("%s: folded %v, want %v (matmul step %+v, add step %+v)", c.add.Name(), fused, c.fold, s, a)
		}
	}
	if _, err := decodePlan(must(p.encode()), len(layers)); err != nil {
		t.Fatalf("the plan does not decode: %v", err)
	}
	bad := *p
	bad.Steps = slices.Clone(p.Steps)
	bad.Steps[at(m1)].Epilogue = 0
	if _, err := decodePlan(must(bad.encode()), len(layers)); err == nil {
		t.Error("a plan with a fused add that no step computes decodes")
	}
}

// TestVectorWidth checks how many elements a thread of a pointwise kernel
// takes: 16 bytes of the widest type, where the innermost dim divides.
func TestVectorWidth(t *testing.T) {
	ix := func(out []int64, ins ...[]int64) *pointwiseIndex { return newPointwiseIndex(out, ins) }
	tensorOf := func(dt dsl.DataType) *dsl.Tensor {
		n := dsl.NewNetwork()
		return n.AddInput("x", dt, dsl.Dims{1})
	}
	for _, c := range []struct {
		static *pointwiseIndex
		ins    []dsl.DataType
		out    dsl.DataType
		want   int
	}{
		{ix([]int64{64, 1024}, []int64{64, 1024}, []int64{1, 1024}), []dsl.DataType{dsl.Float16, dsl.Float16}, dsl.Float16, 8},
		{ix([]int64{64, 1024}, []int64{64, 1024}), []dsl.DataType{dsl.Float32}, dsl.Float32, 4},
		{ix([]int64{64, 1024}, []int64{64, 1024}), []dsl.DataType{dsl.Float16}, dsl.Float32, 4},
		{ix([]int64{64, 1024}, []int64{64, 1024}), []dsl.DataType{dsl.Int64}, dsl.Int64, 2},
		{ix([]int64{64, 1002}, []int64{64, 1002}), []dsl.DataType{dsl.Float16}, dsl.Float16, 8}, // one dim of 64128
		{ix([]int64{64, 1002}, []int64{64, 1002}, []int64{1, 1002}), []dsl.DataType{dsl.Float16, dsl.Float16}, dsl.Float16, 0},
		{nil, []dsl.DataType{dsl.Float16}, dsl.Float16, 0},
	} {
		var ins []*dsl.Tensor
		for _, dt := range c.ins {
			ins = append(ins, tensorOf(dt))
		}
		if got := vectorWidth(c.static, ins, c.out); got != c.want {
			t.Errorf("%v %v -> %v: width %d, want %d", c.static, c.ins, c.out, got, c.want)
		}
	}
}

// TestVectorKernelSource checks the vector path of a bias + GELU kernel:
// 16-byte accesses for the input, the bias and the output, the scalar
// loaded once, and an alignment check in front.
func TestVectorKernelSource(t *testing.T) {
	net := dsl.NewNetwork()
	x := net.AddInput("x", dsl.Float16, dsl.Dims{64, 1024})
	b := net.AddConstant(dsl.Dims{1, 1024}, dsl.NewWeights(tensor.New(dsl.Float16, 1, 1024))).Output(0)
	s := net.AddConstant(dsl.Dims{1, 1}, dsl.NewWeights(tensor.New(dsl.Float16, 1, 1))).Output(0)
	add := net.AddElementWise(x, b, dsl.ElementWiseSum)
	div := net.AddElementWise(add.Output(0), s, dsl.ElementWiseDiv)
	src, ok := pointwiseKernel("k", []dsl.Layer{add, div})
	if !ok {
		t.Fatal("no kernel")
	}
	for _, want := range []string{
		"(unsigned long long)out % 16 == 0 && (unsigned long long)in0 % 16 == 0 && (unsigned long long)in1 % 16 == 0",
		"*reinterpret_cast<const uint4*>(in0 + (int)i)",
		"*reinterpret_cast<const uint4*>(in1 + (int)((i % 1024u) * 1u))",
		"const float e = h2f(in2[0]);",
		"*reinterpret_cast<uint4*>(out + i0)",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("the kernel lacks %q:\n%s", want, src)
		}
	}
}
