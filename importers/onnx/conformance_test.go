package onnx_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/conformance"
	"github.com/trtc/trtc/internal/target/cpu"
	"github.com/trtc/trtc/tensor"
)

const excludeFile = "testdata/conformance_cpu_exclude.txt"

// TestConformanceCPU runs the ONNX backend test data through the importer
// and the CPU engine. Every case either passes or is in the exclude list
// with its reason; a listed case that passes is an error too, so the list
// stays true. UPDATE_EXCLUDES=1 rewrites the list from this run, keeping
// the reasons already written and recording new failures with their error.
func TestConformanceCPU(t *testing.T) {
	cases := conformance.TestData(t)
	ex, err := conformance.LoadExcludes(excludeFile)
	if err != nil {
		t.Fatal(err)
	}
	runner := func(net *dsl.Network, in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
		return cpu.Run(net, in)
	}
	// ONNX_ONLY=regexp runs only matching cases (group/name), for work on
	// a few ops; the exclude list is then neither checked nor rewritten.
	only := conformance.Only()
	var results []conformance.Result
	update := map[string]string{}
	for _, c := range cases {
		key := c.Group + "/" + c.Name
		if only != nil && !only.MatchString(key) {
			continue
		}
		r := conformance.Run(c, runner)
		reason, excluded := ex[key]
		switch {
		case r.Status == conformance.Passed && excluded:
			t.Errorf("%s passes but is excluded (%s): remove it from %s", key, reason, excludeFile)
		case r.Status == conformance.Failed && excluded:
			r.Status = conformance.Skipped
			update[key] = reason
		case r.Status == conformance.Failed:
			t.Errorf("%s: %s", key, r.Detail)
			update[key] = "unsupported: " + oneLine(r.Detail)
		}
		results = append(results, r)
	}
	summary := conformance.Summary(results)
	t.Log("\n" + summary)
	fmt.Print(summary)
	if only == nil && os.Getenv("UPDATE_EXCLUDES") != "" {
		writeExcludes(t, update)
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

func writeExcludes(t *testing.T, ex map[string]string) {
	keys := make([]string, 0, len(ex))
	for k := range ex {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# ONNX backend test cases (libonnx-testdata 1.12) the CPU engine does not pass, each with its reason.\n")
	b.WriteString("# One per line: group/case reason. The conformance test fails when a case listed here passes or an\n")
	b.WriteString("# unlisted case fails. UPDATE_EXCLUDES=1 go test ./importers/onnx -run Conformance rewrites it\n")
	b.WriteString("# (keeping these reasons; new failures get their error, to be classified by hand).\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s\n", k, ex[k])
	}
	if err := os.WriteFile(excludeFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
