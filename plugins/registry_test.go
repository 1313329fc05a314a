package plugins

import (
	"strings"
	"testing"

	"github.com/trtc/trtc/dsl"
)

type testCreator struct{ name, version, ns string }

func (c testCreator) Name() string      { return c.name }
func (c testCreator) Version() string   { return c.version }
func (c testCreator) Namespace() string { return c.ns }
func (c testCreator) Create(map[string]any) (dsl.Plugin, error) {
	return nil, nil
}

func TestLookupPicksHighestVersion(t *testing.T) {
	Register(testCreator{"RegTestOp", "9", "test"})
	Register(testCreator{"RegTestOp", "10", "test"})
	Register(testCreator{"RegTestOp", "2", "other"})
	c, ok := Lookup("RegTestOp", "", "test")
	if !ok || c.Version() != "10" {
		t.Fatalf("Lookup with no version = %v, %v; want version 10", c, ok)
	}
	if c, ok := Lookup("RegTestOp", "9", "test"); !ok || c.Version() != "9" {
		t.Fatalf("Lookup version 9 = %v, %v", c, ok)
	}
	if _, ok := Lookup("RegTestOp", "3", "test"); ok {
		t.Fatal("found a version that was never registered")
	}
	if _, ok := Lookup("NoSuchOp", "", ""); ok {
		t.Fatal("found an unregistered plugin")
	}
	found := 0
	for _, k := range Registered() {
		if k.Name == "RegTestOp" {
			found++
		}
	}
	if found != 3 {
		t.Fatalf("Registered lists %d RegTestOp entries, want 3", found)
	}
}

func TestDuplicateRegistrationPanicsWithBothSites(t *testing.T) {
	Register(testCreator{"DupOp", "1", ""})
	defer func() {
		r := recover()
		msg, _ := r.(string)
		if strings.Count(msg, "registry_test.go:") != 2 {
			t.Fatalf("panic %q should name both call sites", msg)
		}
	}()
	Register(testCreator{"DupOp", "1", ""})
}
