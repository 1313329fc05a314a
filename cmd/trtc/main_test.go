package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestLayersListsEveryKind(t *testing.T) {
	out, err := runCLI(t, "layers")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Convolution", "ElementWise", "KVCacheUpdate", "Activation"} {
		if !strings.Contains(out, want) {
			t.Errorf("trtc layers does not mention %s:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^Activation\s+yes$`).MatchString(out) {
		t.Errorf("Activation should be supported on the CPU:\n%s", out)
	}
}

func TestLayersRejectsUnknownFormat(t *testing.T) {
	if _, err := runCLI(t, "layers", "--format", "xml"); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Fatalf("got %v, want an error naming the format", err)
	}
}
