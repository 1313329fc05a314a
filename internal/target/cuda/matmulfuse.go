package cuda

import (
	"github.com/trtc/trtc/dsl"
)

// Bias adds folded into matrix multiplies. A linear layer exports as a
// MatMul and an Add of a constant vector along the output's last dim;
// cuBLASLt adds that vector in its epilogue (CUBLASLT_EPILOGUE_BIAS: one
// value per row of its column-major D, which is one per column of our
// row-major output), so the add's kernel and its pass over the output go.
// The sum is rounded once, from float32, where the separate add rounds
// the product first and the sum again: within the half-precision
// tolerance, exact in float32.

// fuseMatmulBias finds the bias adds to fold into matrix multiplies and
// records them in the steps: a folded add becomes kindFused, named by
// its matrix multiply's Epilogue (fusedIO gives the tensor it writes).
func fuseMatmulBias(layers []dsl.Layer, kinds []string, steps []step) {
	index, consumers := stepsOf(layers)
	for i, l := range layers {
		if _, ok := l.(*dsl.MatrixMultiplyLayer); !ok || kinds[i] != kindMatmul {
			continue
		}
		out := l.Output(0)
		cs := consumers[out]
		if len(cs) != 1 || out.IsNetworkOutput() || kinds[cs[0]] != kindKernel {
			continue
		}
		k := cs[0]
		if bias := biasOf(layers[k], out); bias != nil {
			if p, _ := bias.Producer(); p != nil && kinds[index[p]] == kindConstant {
				steps[i].Epilogue = foldInto(kinds, steps, k, i)
			}
		}
	}
}

// biasOf returns the vector that add adds to x when add is x + bias with
// bias a float vector of x's type along x's static last dim; else nil.
func biasOf(add dsl.Layer, x *dsl.Tensor) *dsl.Tensor {
	ew, ok := add.(*dsl.ElementWiseLayer)
	if !ok || ew.Operation() != dsl.ElementWiseSum {
		return nil
	}
	bias := ew.Input(1)
	if ew.Input(1) == x {
		bias = ew.Input(0)
	} else if ew.Input(0) != x {
		return nil
	}
	if bias == x || !isFloat(x.Type()) || bias.Type() != x.Type() || add.Output(0).Type() != x.Type() {
		return nil
	}
	// With every other dim 1 and no more dims than x, the bias never
	// widens the sum, whatever x's dynamic dims turn out to be.
	xd, bd := x.Dims(), bias.Dims()
	if len(xd) == 0 || len(bd) == 0 || len(bd) > len(xd) || !bd.IsStatic() {
		return nil
	}
	if n := xd[len(xd)-1]; n <= 0 || bd[len(bd)-1] != n || volume(bd) != n {
		return nil
	}
	return bias
}
