package onnx

import (
	"bytes"
	"os"
	"testing"
)

// TestOperatorsDocIsCurrent fails when docs/operators.md differs from what
// the importer table generates: run `go generate ./importers/onnx`.
func TestOperatorsDocIsCurrent(t *testing.T) {
	var want bytes.Buffer
	if err := WriteOperatorsMarkdown(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/operators.md")
	if err != nil {
		t.Fatalf("%v (run go generate ./importers/onnx)", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("docs/operators.md is stale: run go generate ./importers/onnx")
	}
}
