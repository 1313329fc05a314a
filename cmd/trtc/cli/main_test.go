package cli

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
	if !regexp.MustCompile(`(?m)^Activation\s+yes\s+gpu$`).MatchString(out) {
		t.Errorf("Activation should run on the CPU and on the GPU:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^NMS\s+yes\s+gpu$`).MatchString(out) || !regexp.MustCompile(`(?m)^Recurrence\s+yes\s+region$`).MatchString(out) {
		t.Errorf("NMS should run on the GPU and a Recurrence with its loop:\n%s", out)
	}
	if host := regexp.MustCompile(`(?m)^\S+\s+yes\s+host$`).FindAllString(out, -1); len(host) > 0 {
		t.Errorf("layer kinds the CUDA target runs only on the host: %q", host)
	}
}

func TestLayersRejectsUnknownFormat(t *testing.T) {
	if _, err := runCLI(t, "layers", "--format", "xml"); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Fatalf("got %v, want an error naming the format", err)
	}
}

func TestOpsListsImporters(t *testing.T) {
	out, err := runCLI(t, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^ai\.onnx\s+Add\s+7`).MatchString(out) {
		t.Errorf("trtc ops does not list Add since opset 7:\n%s", out)
	}
	md, err := runCLI(t, "ops", "--format", "markdown")
	if err != nil || !strings.Contains(md, "| ai.onnx | Add |") {
		t.Errorf("markdown output wrong (%v):\n%s", err, md)
	}
}
