package onnx

import (
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"testing"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/tensor"
)

// The conformance data runs DFT with its defaults, STFT and the windows
// with sizes fed at run time, and Det on 2x2; these tests cover
// dft_length (pad and cut, known and run-time), onesided, complex input,
// the opset-20 axis input, constant sizes, larger Det and the constant
// MelWeightMatrix.

// sigNaiveDFT transforms x[0..n) zero-padded or cut to L, keeping K bins.
func sigNaiveDFT(x []complex128, L, K int, inverse bool) []complex128 {
	out := make([]complex128, K)
	sign := -1.0
	if inverse {
		sign = 1
	}
	for k := range out {
		for n := 0; n < L && n < len(x); n++ {
			out[k] += x[n] * cmplx.Exp(complex(0, sign*2*math.Pi*float64(n*k)/float64(L)))
		}
		if inverse {
			out[k] /= complex(float64(L), 0)
		}
	}
	return out
}

func sigVals(n int, seed float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.Sin(seed*float64(i+1))*3 + 0.25)
	}
	return v
}

func TestDFTLengthOnesidedComplex(t *testing.T) {
	// x [2, 5, 2]: two complex signals of 5 samples, axis 1, padded to 8,
	// one-sided (5 bins).
	x := sigVals(20, 0.7)
	node := redNode("DFT", []string{"x", "len"}, []string{"y"}, redAttrI("onesided", 1))
	ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2, 5, 2}}, {name: "len", init: redI64(t, nil, 8)}}
	out, err := redRun(t, 17, node, ins, map[string]*tensor.Tensor{"x": redF32(t, []int64{2, 5, 2}, x...)})
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	for b := 0; b < 2; b++ {
		sig := make([]complex128, 5)
		for n := range sig {
			sig[n] = complex(float64(x[b*10+n*2]), float64(x[b*10+n*2+1]))
		}
		for _, v := range sigNaiveDFT(sig, 8, 5, false) {
			want = append(want, real(v), imag(v))
		}
	}
	redCheck(t, "dft", out["y"], tensor.Float32, []int64{2, 5, 2}, want)
}

func TestDFTInverseRuntimeLengthAxisInput(t *testing.T) {
	// x [1, 4, 3, 1] real, opset 20, axis input -2 (= 2), dft_length fed
	// at run time: 2 (cuts the 3 samples).
	x := sigVals(12, 1.3)
	node := redNode("DFT", []string{"x", "len", "axis"}, []string{"y"}, redAttrI("inverse", 1))
	ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{1, 4, 3, 1}}, {name: "len", dt: tensor.Int64, dims: []int64{}},
		{name: "axis", init: redI64(t, nil, -2)}}
	out, err := redRun(t, 20, node, ins, map[string]*tensor.Tensor{"x": redF32(t, []int64{1, 4, 3, 1}, x...), "len": redI64(t, nil, 2)})
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	for r := 0; r < 4; r++ {
		sig := []complex128{complex(float64(x[r*3]), 0), complex(float64(x[r*3+1]), 0), complex(float64(x[r*3+2]), 0)}
		for _, v := range sigNaiveDFT(sig, 2, 2, true) {
			want = append(want, real(v), imag(v))
		}
	}
	redCheck(t, "idft", out["y"], tensor.Float32, []int64{1, 4, 2, 2}, want)
}

func TestSTFTConstantStepComplexTwoSided(t *testing.T) {
	// signal [1, 10, 2], frame_step 3, window of 4: frames at 0, 3, 6.
	x := sigVals(20, 0.4)
	win := []float32{0.5, 1, 0.75, 0.25}
	node := redNode("STFT", []string{"x", "step", "w"}, []string{"y"}, redAttrI("onesided", 0))
	ins := []redIn{{name: "x", dt: tensor.Float32, dims: []int64{1, 10, 2}}, {name: "step", init: redI64(t, nil, 3)},
		{name: "w", init: redF32(t, []int64{4}, win...)}}
	out, err := redRun(t, 17, node, ins, map[string]*tensor.Tensor{"x": redF32(t, []int64{1, 10, 2}, x...)})
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	for f := 0; f < 3; f++ {
		sig := make([]complex128, 4)
		for n := range sig {
			s := f*3 + n
			sig[n] = complex(float64(x[2*s]), float64(x[2*s+1])) * complex(float64(win[n]), 0)
		}
		for _, v := range sigNaiveDFT(sig, 4, 4, false) {
			want = append(want, real(v), imag(v))
		}
	}
	redCheck(t, "stft", out["y"], tensor.Float32, []int64{1, 3, 4, 2}, want)
}

func TestWindowConstantSize(t *testing.T) {
	// Symmetric Blackman of 5 points as float16: 0.42 - 0.5cos + 0.08cos2.
	node := redNode("BlackmanWindow", []string{"n"}, []string{"y"}, redAttrI("periodic", 0), redAttrI("output_datatype", 10))
	out, err := redRun(t, 17, node, []redIn{{name: "n", init: redI64(t, nil, 5)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 5)
	for i := range want {
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/4) + 0.08*math.Cos(4*math.Pi*float64(i)/4)
		h, _ := tensor.FromFloat64s(tensor.Float16, []int64{1}, []float64{w})
		want[i] = h.Float64s()[0]
	}
	redCheck(t, "blackman", out["y"], tensor.Float16, []int64{5}, want)
}

// sigNaiveDet is Gaussian elimination with partial pivoting in float64.
func sigNaiveDet(a [][]float64) float64 {
	n := len(a)
	m := make([][]float64, n)
	for i := range a {
		m[i] = append([]float64{}, a[i]...)
	}
	det := 1.0
	for k := 0; k < n; k++ {
		p := k
		for i := k + 1; i < n; i++ {
			if math.Abs(m[i][k]) > math.Abs(m[p][k]) {
				p = i
			}
		}
		if p != k {
			m[p], m[k] = m[k], m[p]
			det = -det
		}
		if m[k][k] == 0 {
			return 0
		}
		det *= m[k][k]
		for i := k + 1; i < n; i++ {
			f := m[i][k] / m[k][k]
			for j := k; j < n; j++ {
				m[i][j] -= f * m[k][j]
			}
		}
	}
	return det
}

func TestDetSizes(t *testing.T) {
	for _, n := range []int{1, 3, 4, 7} {
		x := sigVals(2*n*n, 0.9+float64(n))
		node := redNode("Det", []string{"x"}, []string{"y"})
		out, err := redRun(t, 11, node, []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2, int64(n), int64(n)}}},
			map[string]*tensor.Tensor{"x": redF32(t, []int64{2, int64(n), int64(n)}, x...)})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, 2)
		for b := range want {
			a := make([][]float64, n)
			for i := range a {
				a[i] = make([]float64, n)
				for j := range a[i] {
					a[i][j] = float64(x[b*n*n+i*n+j])
				}
			}
			want[b] = sigNaiveDet(a)
		}
		redCheck(t, "det", out["y"], tensor.Float32, []int64{2}, want)
	}
	node := redNode("Det", []string{"x"}, []string{"y"})
	_, err := redRun(t, 11, node, []redIn{{name: "x", dt: tensor.Float32, dims: []int64{65, 65}}}, nil)
	redWantErr(t, err, diag.UnsupportedAttr, "up to 64x64")
}

// The constant MelWeightMatrix against the ONNX reference output of the
// backend test data (skipped when the data is not installed).
func TestMelWeightMatrixConstant(t *testing.T) {
	dir := "/usr/share/libonnx-testdata/data/node/test_melweightmatrix/test_data_set_0"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("ONNX backend test data not installed")
	}
	var ins []redIn
	names := []string{"nm", "dft", "sr", "lo", "hi"}
	for i, n := range names {
		v, err := LoadTensorFile(filepath.Join(dir, "input_"+string(rune('0'+i))+".pb"))
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, redIn{name: n, init: v})
	}
	want, err := LoadTensorFile(filepath.Join(dir, "output_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := redRun(t, 17, redNode("MelWeightMatrix", names, []string{"y"}), ins, nil)
	if err != nil {
		t.Fatal(err)
	}
	redCheck(t, "mel", out["y"], tensor.Float32, want.Shape(), want.Float64s())
}

func TestDetPivotingAndSingular(t *testing.T) {
	// A zero first pivot needs a row swap (det -6); duplicated rows give 0.
	perm := []float32{0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3}
	sing := []float32{1, 2, 3, 4, 2, 4, 6, 8, 0, 1, 0, 1, 5, 1, 2, 7}
	node := redNode("Det", []string{"x"}, []string{"y"})
	out, err := redRun(t, 11, node, []redIn{{name: "x", dt: tensor.Float32, dims: []int64{2, 4, 4}}},
		map[string]*tensor.Tensor{"x": redF32(t, []int64{2, 4, 4}, append(perm, sing...)...)})
	if err != nil {
		t.Fatal(err)
	}
	redCheck(t, "det", out["y"], tensor.Float32, []int64{2}, []float64{-6, 0})
}
