package dsl

import (
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
)

// attnWantErr checks that building l reported an error with the given code
// and message fragment.
func attnWantErr(t *testing.T, n *Network, code diag.Code, frag string) {
	t.Helper()
	for _, e := range n.Diagnostics().Errors() {
		if e.Code == code && strings.Contains(e.Msg, frag) {
			return
		}
	}
	t.Errorf("want %v %q, got %v", code, frag, n.Diagnostics().Errors())
}

// attnWantOK checks that layer output o has the given type and dims and that
// its producer reported nothing.
func attnWantOK(t *testing.T, o *Tensor, dt DataType, d Dims) {
	t.Helper()
	l, _ := o.Producer()
	if p := l.base().problems; len(p) != 0 {
		t.Fatalf("unexpected problems: %v", p)
	}
	if o.Type() != dt || !o.Dims().Equal(d) {
		t.Fatalf("got %v %v, want %v %v", o.Type(), o.Dims(), dt, d)
	}
}
