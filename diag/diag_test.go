package diag

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorText(t *testing.T) {
	cases := []struct {
		e    *Error
		want string
	}{
		{&Error{Code: ShapeMismatch, Layer: "fc1", Op: "MatrixMultiply", Index: 3, Loc: "model.go:12", Msg: "K differs"},
			`model.go:12: ShapeMismatch in MatrixMultiply "fc1" (layer 3): K differs`},
		{&Error{Code: UnsupportedNode, Op: "Foo", Index: -1, Msg: "no importer"}, `UnsupportedNode in Foo: no importer`},
		{&Error{Code: InvalidGraph, Severity: SeverityWarning, Index: -1, Msg: "unused"}, `warning: InvalidGraph: unused`},
		{Wrap(InvalidFile, fmt.Errorf("short read"), "header of %q", "a.npy"), `InvalidFile: header of "a.npy": short read`},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestListIsAndErr(t *testing.T) {
	var empty List
	if empty.Err() != nil {
		t.Fatal("an empty list is an error")
	}
	warn := List{{Code: InvalidGraph, Severity: SeverityWarning, Index: -1, Msg: "w"}}
	if warn.Err() != nil || warn.HasErrors() {
		t.Fatal("warnings alone are an error")
	}
	l := append(warn, Errorf(ShapeMismatch, "a"), Errorf(TypeMismatch, "b"))
	err := l.Err()
	if !errors.Is(err, ShapeMismatch) || !errors.Is(err, TypeMismatch) || errors.Is(err, NoDevice) {
		t.Fatalf("errors.Is over the list is wrong: %v", err)
	}
	if CodeOf(fmt.Errorf("wrapped: %w", Errorf(OutOfRange, "x"))) != OutOfRange {
		t.Fatal("CodeOf does not see through wrapping")
	}
	if got := len(l.Errors()); got != 2 {
		t.Fatalf("%d errors, want 2", got)
	}
}
