package dsl

import "github.com/trtc/trtc/diag"

// EinsumLayer sums products of its inputs' elements as an Einstein
// summation equation says (TensorRT IEinsumLayer). The equation names each
// input dim with a lowercase letter, terms separated by ','; an optional
// '->' gives the output subscripts (explicit mode), otherwise the output
// has the letters used exactly once, in alphabetical order (implicit
// mode). '...' stands for leading dims that broadcast across inputs, as in
// NumPy; a letter repeated within one input takes the diagonal; letters
// missing from the output are summed over. Dims with the same letter must
// be equal or 1 (broadcast). Inputs are Float32 or Float16 (mixed is fine);
// the output is Float32, as TensorRT defines it. Products are summed in
// float64.
type EinsumLayer struct {
	layerBase
	equation string
}

// AddEinsum adds an Einsum layer over inputs.
func (n *Network) AddEinsum(inputs []*Tensor, equation string) *EinsumLayer {
	l := &EinsumLayer{equation: equation}
	n.addLayer(l, LayerEinsum, 1, len(inputs), inputs...)
	return l
}

// Equation returns the equation.
func (l *EinsumLayer) Equation() string { return l.equation }

// SetEquation replaces the equation. It returns false, keeping the old
// one, when the new one is not syntactically valid (the problem is
// recorded as an error); whether it fits the inputs is checked with the
// rest of the layer.
func (l *EinsumLayer) SetEquation(eq string) bool {
	if _, err := ParseEinsum(eq, nil); err != nil {
		l.net.addError(callerLoc(), l.name, "Einsum layer %q: SetEquation: %v", l.name, err)
		return false
	}
	l.equation = eq
	l.changed()
	return true
}

func (l *EinsumLayer) infer(c *inferCtx) {
	n := len(c.l.inputs)
	if n == 0 {
		c.errorf(diag.InvalidArgument, "Einsum needs at least one input")
		return
	}
	ranks := make([]int, n)
	dims := make([]Dims, n)
	for i := 0; i < n; i++ {
		t := c.in(i)
		if t.dtype != Float32 && t.dtype != Float16 {
			c.errorf(diag.TypeMismatch, "input %d (%q) is %v; TensorRT's Einsum takes Float32 or Float16", i, t.name, t.dtype)
			return
		}
		ranks[i], dims[i] = len(t.dims), t.dims
	}
	spec, err := ParseEinsum(l.equation, ranks)
	if err != nil {
		c.errorf(diag.InvalidNode, "%v", err)
		return
	}
	size, err := EinsumLabelSizes(spec, dims)
	if err != nil {
		c.errorf(diag.ShapeMismatch, "equation %q: %v", l.equation, err)
		return
	}
	out := Dims{}
	for _, id := range spec.Output {
		out = append(out, size[id])
	}
	c.setOutput(0, Float32, out)
}
