package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestData returns the test data's cases, from ONNX_TESTDATA or
// DefaultRoot, or skips t saying how to install it.
func TestData(t testing.TB) []Case {
	t.Helper()
	root := os.Getenv("ONNX_TESTDATA")
	if root == "" {
		root = DefaultRoot
	}
	if _, err := os.Stat(filepath.Join(root, "node")); err != nil {
		t.Skipf("ONNX backend test data not found at %s (apt-get install libonnx-testdata, or set ONNX_TESTDATA)", root)
	}
	cases, err := Cases(root)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// Only is the ONNX_ONLY regexp (group/name) that narrows a run to a few
// cases, or nil.
func Only() *regexp.Regexp {
	if pat := os.Getenv("ONNX_ONLY"); pat != "" {
		return regexp.MustCompile(pat)
	}
	return nil
}

// Suite runs every case (ONNX_ONLY narrows them) through run, except those
// in the exclude file, which count as skipped; failed is called for every
// case that fails. It prints and returns the summary.
func Suite(t testing.TB, excludeFile string, run Runner, failed func(key string, r Result)) string {
	t.Helper()
	cases := TestData(t)
	ex, err := LoadExcludes(excludeFile)
	if err != nil {
		t.Fatal(err)
	}
	only := Only()
	var results []Result
	for _, c := range cases {
		key := c.Group + "/" + c.Name
		if only != nil && !only.MatchString(key) {
			continue
		}
		if _, excluded := ex[key]; excluded {
			results = append(results, Result{Case: c, Status: Skipped})
			continue
		}
		r := Run(c, run)
		if r.Status == Failed {
			failed(key, r)
		}
		results = append(results, r)
	}
	s := Summary(results)
	t.Log("\n" + s)
	fmt.Print(s)
	return s
}
