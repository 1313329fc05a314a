package dsl

import (
	"errors"
	"strings"
	"testing"

	"github.com/trtc/trtc/diag"
)

// linalgWantErr checks that the network reports an error with code and a
// message containing frag.
func linalgWantErr(t *testing.T, n *Network, code diag.Code, frag string) {
	t.Helper()
	err := n.Err()
	if err == nil {
		t.Fatalf("no error, want %v %q", code, frag)
	}
	var list diag.List
	if !errors.As(err, &list) {
		t.Fatalf("Err() = %v, want a diag.List", err)
	}
	for _, e := range list.Errors() {
		if e.Code == code && strings.Contains(e.Msg, frag) {
			return
		}
	}
	t.Fatalf("want %v %q, got:\n%v", code, frag, err)
}

// linalgWantOK checks that the network builds and returns an output's dims.
func linalgWantOK(t *testing.T, n *Network, out *Tensor) Dims {
	t.Helper()
	n.MarkOutput(out)
	if err := n.Err(); err != nil {
		t.Fatal(err)
	}
	return out.Dims()
}

func TestAxesFromMask(t *testing.T) {
	axes, err := AxesFromMask(0b1010, 4)
	if err != nil || len(axes) != 2 || axes[0] != 1 || axes[1] != 3 {
		t.Fatalf("AxesFromMask(0b1010, 4) = %v, %v", axes, err)
	}
	if _, err := AxesFromMask(0b10000, 4); err == nil || !strings.Contains(err.Error(), "bit 4") {
		t.Fatalf("want bit 4 error, got %v", err)
	}
	if axes, err := AxesFromMask(0, 0); err != nil || len(axes) != 0 {
		t.Fatalf("empty mask: %v %v", axes, err)
	}
}
