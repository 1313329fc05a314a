package dsl

import (
	"fmt"
	"slices"
)

// EinsumSpec is a parsed Einsum equation, with every dimension of every
// operand named by a label id: 0..25 for the letters a..z, and 26.. for
// the dims an ellipsis stands for (right-aligned across operands, as in
// NumPy, so the last dim under every ellipsis has the same id).
type EinsumSpec struct {
	Operands [][]int // label id of each dim of each operand
	Output   []int   // label id of each output dim
	NbLabels int     // ids are < NbLabels
}

// einsumLetters is the number of letter labels.
const einsumLetters = 26

// EinsumLabelName names a label id for messages.
func EinsumLabelName(id int) string {
	if id < einsumLetters {
		return string(rune('a' + id))
	}
	return fmt.Sprintf("...[%d]", id-einsumLetters)
}

// einsumTerm is one operand's or the output's subscripts as written.
type einsumTerm struct {
	labels   []int // letters in order, with -1 where the ellipsis is
	pos      []int // byte offset of each entry in the equation
	start    int   // offset where the term starts
	ellipsis bool
}

// einsumLex splits an equation into operand terms and an optional output
// term. Spaces are ignored (ONNX equations contain them); anything but
// lowercase letters, ',', '->' and '...' is an error naming its offset.
func einsumLex(eq string) (ops []einsumTerm, out *einsumTerm, err error) {
	cur := einsumTerm{start: 0}
	inOutput := false
	for i := 0; i < len(eq); i++ {
		ch := eq[i]
		switch {
		case ch == ' ':
		case ch >= 'a' && ch <= 'z':
			cur.labels = append(cur.labels, int(ch-'a'))
			cur.pos = append(cur.pos, i)
		case ch == '.':
			if i+2 >= len(eq) || eq[i+1] != '.' || eq[i+2] != '.' {
				return nil, nil, fmt.Errorf("equation %q: '.' at position %d is not part of an ellipsis '...'", eq, i)
			}
			if cur.ellipsis {
				return nil, nil, fmt.Errorf("equation %q: second ellipsis in one term at position %d", eq, i)
			}
			cur.ellipsis = true
			cur.labels = append(cur.labels, -1)
			cur.pos = append(cur.pos, i)
			i += 2
		case ch == ',':
			if inOutput {
				return nil, nil, fmt.Errorf("equation %q: ',' at position %d is in the output subscripts", eq, i)
			}
			ops = append(ops, cur)
			cur = einsumTerm{start: i + 1}
		case ch == '-':
			if i+1 >= len(eq) || eq[i+1] != '>' {
				return nil, nil, fmt.Errorf("equation %q: '-' at position %d is not followed by '>'", eq, i)
			}
			if inOutput {
				return nil, nil, fmt.Errorf("equation %q: second '->' at position %d", eq, i)
			}
			ops = append(ops, cur)
			cur = einsumTerm{start: i + 2}
			inOutput = true
			i++
		case ch >= 'A' && ch <= 'Z':
			return nil, nil, fmt.Errorf("equation %q: uppercase label %q at position %d; TensorRT accepts only lowercase letters", eq, ch, i)
		default:
			return nil, nil, fmt.Errorf("equation %q: character %q at position %d is not a lowercase letter, ',', '->' or '...'", eq, ch, i)
		}
	}
	if inOutput {
		return ops, &cur, nil
	}
	return append(ops, cur), nil, nil
}

// ParseEinsum parses an equation for operands of the given ranks. With
// ranks nil it checks only the syntax (what SetEquation can know).
func ParseEinsum(eq string, ranks []int) (*EinsumSpec, error) {
	ops, out, err := einsumLex(eq)
	if err != nil {
		return nil, err
	}
	if ranks == nil {
		return nil, einsumCheckOutput(eq, ops, out)
	}
	if len(ops) != len(ranks) {
		return nil, fmt.Errorf("equation %q has %d operand terms but the layer has %d inputs", eq, len(ops), len(ranks))
	}
	// How many dims each ellipsis stands for, and the most of any operand.
	nEll := 0
	ellDims := make([]int, len(ops))
	for i, t := range ops {
		letters := len(t.labels)
		if t.ellipsis {
			letters--
		}
		switch {
		case !t.ellipsis && letters != ranks[i]:
			return nil, fmt.Errorf("equation %q: term %d (at position %d) has %d subscripts but input %d has rank %d", eq, i, t.start, letters, i, ranks[i])
		case t.ellipsis && letters > ranks[i]:
			return nil, fmt.Errorf("equation %q: term %d (at position %d) has %d subscripts besides '...' but input %d has rank %d", eq, i, t.start, letters, i, ranks[i])
		case t.ellipsis:
			ellDims[i] = ranks[i] - letters
			nEll = max(nEll, ellDims[i])
		}
	}
	if err := einsumCheckOutput(eq, ops, out); err != nil {
		return nil, err
	}
	spec := &EinsumSpec{NbLabels: einsumLetters + nEll}
	expand := func(t einsumTerm, e int) []int {
		var ids []int
		for _, l := range t.labels {
			if l >= 0 {
				ids = append(ids, l)
				continue
			}
			for j := 0; j < e; j++ {
				ids = append(ids, einsumLetters+nEll-e+j)
			}
		}
		return ids
	}
	count := make([]int, spec.NbLabels)
	for i, t := range ops {
		ids := expand(t, ellDims[i])
		spec.Operands = append(spec.Operands, ids)
		for _, id := range ids {
			count[id]++
		}
	}
	if out != nil {
		if !out.ellipsis && nEll > 0 {
			return nil, fmt.Errorf("equation %q: the inputs' '...' stands for %d dims, but the output subscripts (at position %d) have no '...'", eq, nEll, out.start)
		}
		spec.Output = expand(*out, nEll)
		if spec.Output == nil {
			spec.Output = []int{}
		}
		return spec, nil
	}
	// Implicit output: the ellipsis dims, then every letter used once, in
	// alphabetical order.
	spec.Output = []int{}
	for j := 0; j < nEll; j++ {
		spec.Output = append(spec.Output, einsumLetters+j)
	}
	for id := 0; id < einsumLetters; id++ {
		if count[id] == 1 {
			spec.Output = append(spec.Output, id)
		}
	}
	return spec, nil
}

// einsumCheckOutput checks the explicit output term against the operands.
func einsumCheckOutput(eq string, ops []einsumTerm, out *einsumTerm) error {
	if out == nil {
		return nil
	}
	anyEll := false
	for _, t := range ops {
		anyEll = anyEll || t.ellipsis
	}
	for k, l := range out.labels {
		if l < 0 {
			if !anyEll {
				return fmt.Errorf("equation %q: '...' at position %d is in the output but in no input", eq, out.pos[k])
			}
			continue
		}
		if slices.Contains(out.labels[:k], l) {
			return fmt.Errorf("equation %q: output label %q at position %d appears twice in the output", eq, rune('a'+l), out.pos[k])
		}
		found := false
		for _, t := range ops {
			found = found || slices.Contains(t.labels, l)
		}
		if !found {
			return fmt.Errorf("equation %q: output label %q at position %d appears in no input", eq, rune('a'+l), out.pos[k])
		}
	}
	return nil
}

// EinsumLabelSizes works out the size of every label from the operands'
// dims: equal sizes agree, a 1 broadcasts against any size, and -1 is
// unknown until run time. A label repeated within one operand (a
// diagonal) must have one size there. Unused labels get size 0 entries
// that nothing reads.
func EinsumLabelSizes(spec *EinsumSpec, dims []Dims) ([]int64, error) {
	size := make([]int64, spec.NbLabels)
	seen := make([]bool, spec.NbLabels)
	for i, ids := range spec.Operands {
		for j, id := range ids {
			d := dims[i][j]
			for j2 := 0; j2 < j; j2++ {
				if ids[j2] == id && dims[i][j2] >= 0 && d >= 0 && dims[i][j2] != d {
					return nil, fmt.Errorf("label %s is repeated in input %d (a diagonal) with sizes %d and %d", EinsumLabelName(id), i, dims[i][j2], d)
				}
			}
			switch {
			case !seen[id]:
				size[id], seen[id] = d, true
			case size[id] == d || d == 1:
			case size[id] == 1:
				size[id] = d
			case d < 0:
			case size[id] < 0:
				size[id] = d
			default:
				return nil, fmt.Errorf("label %s has size %d in input %d but %d elsewhere, and neither is 1", EinsumLabelName(id), d, i, size[id])
			}
		}
	}
	return size, nil
}
