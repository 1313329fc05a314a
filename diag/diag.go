// Package diag holds trtc's typed errors and diagnostics.
//
// Every package reports problems with a Code, so callers can branch on what
// went wrong with errors.Is(err, diag.ShapeMismatch) and users get a sentence
// they can act on. A network build accumulates Diagnostics and reports all of
// them at once (see List), rather than stopping at the first.
package diag

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error. Codes are comparable with errors.Is: an *Error
// matches its own Code, so errors.Is(err, diag.ShapeMismatch) works on any
// error chain that contains one.
type Code int

const (
	Internal           Code = iota + 1 // a broken invariant inside trtc: a bug
	InvalidArgument                    // a caller passed a value that can never be valid
	InvalidNode                        // a layer or node whose parameters or inputs are wrong
	UnsupportedNode                    // a layer or node kind that a target or importer cannot handle
	UnsupportedAttr                    // an attribute or parameter value that is valid but not supported
	ShapeMismatch                      // dimensions that do not agree
	TypeMismatch                       // data types that do not agree or are not allowed
	InvalidGraph                       // a problem with the network as a whole: cycles, foreign tensors, unused inputs
	OutOfRange                         // an index or value outside its allowed range, found at run time
	InvalidFile                        // a file (npy, safetensors, onnx) that cannot be parsed
	EngineCorrupt                      // an engine file that fails its checks
	EngineIncompatible                 // an engine file built for another target, device or version
	NoDevice                           // no GPU, driver or library where one is required
	OutOfMemory                        // an allocation failed
	AssertionFailed                    // an Assertion layer's condition was false at run time
)

var codeNames = map[Code]string{
	Internal:           "Internal",
	InvalidArgument:    "InvalidArgument",
	InvalidNode:        "InvalidNode",
	UnsupportedNode:    "UnsupportedNode",
	UnsupportedAttr:    "UnsupportedAttr",
	ShapeMismatch:      "ShapeMismatch",
	TypeMismatch:       "TypeMismatch",
	InvalidGraph:       "InvalidGraph",
	OutOfRange:         "OutOfRange",
	InvalidFile:        "InvalidFile",
	EngineCorrupt:      "EngineCorrupt",
	EngineIncompatible: "EngineIncompatible",
	NoDevice:           "NoDevice",
	OutOfMemory:        "OutOfMemory",
	AssertionFailed:    "AssertionFailed",
}

func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("Code(%d)", int(c))
}

// Error implements error so a bare Code can be the target of errors.Is.
func (c Code) Error() string { return c.String() }

// Severity says whether a diagnostic stops a build.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Error is one problem: what kind, where in the network, where in the
// caller's source, and what to do about it.
type Error struct {
	Code     Code
	Severity Severity
	Layer    string // layer or node name; empty when the problem is not about one layer
	Op       string // layer kind or ONNX op type
	Index    int    // layer index in the network, -1 when not applicable
	Loc      string // file:line of the call that created the layer (or that made the mistake)
	Msg      string // a sentence a user can act on
	Err      error  // an underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Loc != "" {
		b.WriteString(e.Loc)
		b.WriteString(": ")
	}
	if e.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(e.Code.String())
	if e.Layer != "" || e.Op != "" {
		b.WriteString(" in")
		if e.Op != "" {
			b.WriteString(" " + e.Op)
		}
		if e.Layer != "" {
			fmt.Fprintf(&b, " %q", e.Layer)
		}
		if e.Index >= 0 {
			fmt.Fprintf(&b, " (layer %d)", e.Index)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, code) true when err carries that code.
func (e *Error) Is(target error) bool {
	c, ok := target.(Code)
	return ok && c == e.Code
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with no layer attached.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Index: -1, Msg: fmt.Sprintf(format, args...)}
}

// Wrap builds an *Error around a cause.
func Wrap(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Index: -1, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// List is every problem found in one phase. As an error it reports the
// errors (warnings are kept for display but do not make a List an error).
type List []*Error

// Errors returns only the entries with SeverityError.
func (l List) Errors() List {
	var out List
	for _, e := range l {
		if e.Severity == SeverityError {
			out = append(out, e)
		}
	}
	return out
}

// Warnings returns only the entries with SeverityWarning.
func (l List) Warnings() List {
	var out List
	for _, e := range l {
		if e.Severity == SeverityWarning {
			out = append(out, e)
		}
	}
	return out
}

// HasErrors reports whether any entry is an error.
func (l List) HasErrors() bool {
	for _, e := range l {
		if e.Severity == SeverityError {
			return true
		}
	}
	return false
}

func (l List) Error() string {
	errs := l.Errors()
	var b strings.Builder
	fmt.Fprintf(&b, "%d error", len(errs))
	if len(errs) != 1 {
		b.WriteString("s")
	}
	for _, e := range errs {
		b.WriteString("\n\t")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes every error so errors.Is and errors.As search them all.
func (l List) Unwrap() []error {
	var out []error
	for _, e := range l.Errors() {
		out = append(out, e)
	}
	return out
}

// Err returns the list as an error when it has errors, nil otherwise.
func (l List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return l
}

// CodeOf returns the code of the first *Error in err's chain, or 0.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}
