package dsl

import (
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
)

// spatialWantErr checks that net reports an error with code whose message
// contains frag.
func spatialWantErr(t *testing.T, net *Network, code diag.Code, frag string) {
	t.Helper()
	var msgs []string
	for _, e := range net.Diagnostics() {
		if e.Severity != diag.SeverityError {
			continue
		}
		if e.Code == code && strings.Contains(e.Msg, frag) {
			return
		}
		msgs = append(msgs, e.Code.String()+": "+e.Msg)
	}
	t.Fatalf("no %v error containing %q; got %q", code, frag, msgs)
}

// spatialWantDims checks a tensor's inferred type and dims and that the
// network has no errors.
func spatialWantDims(t *testing.T, out *Tensor, dt DataType, want Dims) {
	t.Helper()
	if d := out.Network().Diagnostics(); d.HasErrors() {
		t.Fatal(d.Err())
	}
	if out.Type() != dt || !out.Dims().Equal(want) {
		t.Fatalf("output %v %v, want %v %v", out.Type(), out.Dims(), dt, want)
	}
}

// spatialZeros returns float32 weights of n values (their values do not
// matter to inference).
func spatialZeros(n int64) Weights {
	return Float32Weights(make([]float32, n)...)
}

func TestPaddingModeNames(t *testing.T) {
	for _, m := range AllPaddingModes() {
		if strings.HasPrefix(m.String(), "PaddingMode(") {
			t.Fatalf("%d has no name", int(m))
		}
	}
	if PaddingMode(9).String() != "PaddingMode(9)" {
		t.Fatal(PaddingMode(9).String())
	}
}
