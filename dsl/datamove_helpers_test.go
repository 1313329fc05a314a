package dsl

import (
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
)

// datamoveKnownInput adds an input whose contents are known at build time,
// standing in for a Constant or shape arithmetic in inference tests.
func datamoveKnownInput(n *Network, name string, dt DataType, v ...int64) *Tensor {
	t := n.AddInput(name, dt, Dims{int64(len(v))})
	t.values = append([]int64{}, v...)
	return t
}

// datamoveWantErr checks that l reports an error with code and a message
// containing text.
func datamoveWantErr(t *testing.T, l Layer, code diag.Code, text string) {
	t.Helper()
	l.Network().refresh()
	for _, e := range l.base().problems {
		if e.Code == code && strings.Contains(e.Msg, text) {
			return
		}
	}
	t.Errorf("%v: want %v error containing %q, got %v", l.Type(), code, text, l.base().problems)
}

// datamoveWantDims checks an inferred output's dims and that the layer is
// free of errors.
func datamoveWantDims(t *testing.T, l Layer, out int, want Dims) {
	t.Helper()
	got := l.Output(out).Dims()
	if p := l.base().problems; p.HasErrors() {
		t.Fatalf("%v: unexpected errors: %v", l.Type(), p)
	}
	if !got.Equal(want) {
		t.Errorf("%v output %d: dims %v, want %v", l.Type(), out, got, want)
	}
}
