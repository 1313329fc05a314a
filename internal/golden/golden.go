// Package golden compares test output with files under testdata, the
// esbuild way: UPDATE_GOLDEN=1 go test ./... rewrites them, and a review of
// the diff is the review of the change.
package golden

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Check compares got with the golden file at path, or rewrites the file
// when UPDATE_GOLDEN is set.
func Check(t testing.TB, path string, got string) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs (-golden +got; UPDATE_GOLDEN=1 rewrites it):\n%s", path, d)
	}
}

var trtcVersion = regexp.MustCompile(`built by trtc \S+`)

// Normalize replaces what changes from build to build (the trtc version)
// in inspect output.
func Normalize(s string) string { return trtcVersion.ReplaceAllString(s, "built by trtc VERSION") }
