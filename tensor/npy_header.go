package tensor

import (
	"fmt"
	"math"
	"strings"
)

// npyHeader is the parsed .npy header dict.
type npyHeader struct {
	dtype     DataType
	itemSize  int // bytes per element in the file
	bigEndian bool
	fortran   bool
	shape     []int64
}

// parseNPYHeader parses the header dict, a Python literal such as
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//
// It accepts the subset of Python literal syntax numpy writes (strings in
// single or double quotes without escapes, True/False, non-negative integers
// with an optional Python 2 'L' suffix, tuples, a dict with a trailing
// comma) and requires exactly the three keys, each once.
func parseNPYHeader(b []byte) (npyHeader, error) {
	p := &pyParser{s: string(b)}
	var h npyHeader
	p.skipSpace()
	if !p.eat('{') {
		return h, p.errorf("expected '{' starting the header dict")
	}
	seen := map[string]bool{}
	for {
		p.skipSpace()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, fmt.Errorf("dict key: %w", err)
		}
		if seen[key] {
			return h, fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		p.skipSpace()
		if !p.eat(':') {
			return h, p.errorf("expected ':' after key %q", key)
		}
		p.skipSpace()
		switch key {
		case "descr":
			s, err := p.str()
			if err != nil {
				return h, fmt.Errorf("'descr' must be a string (structured dtypes are not supported): %w", err)
			}
			if err := h.setDescr(s); err != nil {
				return h, err
			}
		case "fortran_order":
			v, err := p.boolean()
			if err != nil {
				return h, fmt.Errorf("'fortran_order': %w", err)
			}
			h.fortran = v
		case "shape":
			s, err := p.shapeTuple()
			if err != nil {
				return h, fmt.Errorf("'shape': %w", err)
			}
			h.shape = s
		default:
			return h, fmt.Errorf("unexpected key %q (want only 'descr', 'fortran_order' and 'shape')", key)
		}
		p.skipSpace()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			break
		}
		return h, p.errorf("expected ',' or '}' after the value of %q", key)
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return h, p.errorf("unexpected text after the header dict")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("missing key '%s'", k)
		}
	}
	return h, nil
}

func (h *npyHeader) setDescr(s string) error {
	if len(s) != 3 {
		return fmt.Errorf("unsupported descr %q (supported: %s)", s, npySupported)
	}
	d, ok := npyDescr[s[1:]]
	if !ok {
		return fmt.Errorf("unsupported descr %q (supported: %s)", s, npySupported)
	}
	switch s[0] {
	case '<':
	case '>':
		h.bigEndian = true
	case '|':
		if d.size != 1 {
			return fmt.Errorf("descr %q: byte order '|' is only valid for one-byte types; use '<' or '>'", s)
		}
	default:
		return fmt.Errorf("unsupported byte order in descr %q (want '<', '>' or '|'; supported: %s)", s, npySupported)
	}
	h.dtype, h.itemSize = d.dt, d.size
	return nil
}

// pyParser scans a Python literal.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *pyParser) skipSpace() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", p.errorf("expected a quoted string")
	}
	q := p.s[p.i]
	start := p.i + 1
	for j := start; j < len(p.s); j++ {
		switch p.s[j] {
		case q:
			p.i = j + 1
			return p.s[start:j], nil
		case '\\':
			p.i = j
			return "", p.errorf("escape sequences in strings are not supported")
		case '\n':
			p.i = j
			return "", p.errorf("unterminated string")
		}
	}
	p.i = len(p.s)
	return "", p.errorf("unterminated string")
}

func (p *pyParser) boolean() (bool, error) {
	switch {
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	}
	return false, p.errorf("expected True or False")
}

// shapeTuple parses "()", "(3,)", "(2, 3)" or "(2, 3,)".
func (p *pyParser) shapeTuple() ([]int64, error) {
	if !p.eat('(') {
		return nil, p.errorf("expected a tuple such as (2, 3)")
	}
	shape := []int64{}
	for {
		p.skipSpace()
		if p.eat(')') {
			if len(shape) == 1 && !strings.HasSuffix(strings.TrimRight(p.s[:p.i-1], " \t\r\n"), ",") {
				return nil, p.errorf("(n) is not a tuple; a one-dimensional shape is written (n,)")
			}
			return shape, nil
		}
		d, err := p.dim()
		if err != nil {
			return nil, err
		}
		shape = append(shape, d)
		p.skipSpace()
		if p.eat(',') {
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ')' {
			continue
		}
		return nil, p.errorf("expected ',' or ')' in the shape tuple")
	}
}

// dim parses a non-negative decimal integer, with an optional 'L' suffix
// (Python 2 longs, written by old numpy versions).
func (p *pyParser) dim() (int64, error) {
	start := p.i
	var v int64
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		c := int64(p.s[p.i] - '0')
		if v > (math.MaxInt64-c)/10 {
			return 0, p.errorf("dimension %s... overflows int64", p.s[start:p.i])
		}
		v = v*10 + c
		p.i++
	}
	if p.i == start {
		return 0, p.errorf("expected a non-negative integer dimension")
	}
	if p.i-start > 1 && p.s[start] == '0' {
		return 0, p.errorf("dimension %s has a leading zero", p.s[start:p.i])
	}
	p.eat('L')
	return v, nil
}
