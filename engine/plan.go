package engine

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/engine/enginepb"
)

// Plan is a built engine held in memory (what compiler.Build returns): the
// manifest and the sections of an engine file, ready to be saved or
// loaded. TensorRT's IHostMemory holding a serialized engine is the
// counterpart.
type Plan struct {
	// Manifest describes the engine; its section table is filled when the
	// plan is written.
	Manifest *enginepb.Manifest
	sections []pendingSection
}

// NewPlan starts a plan with manifest m.
func NewPlan(m *enginepb.Manifest) *Plan { return &Plan{Manifest: m} }

// AddSection appends a raw section (names are unique; kind says what the
// bytes are to the target).
func (p *Plan) AddSection(name, kind string, data []byte) {
	p.sections = append(p.sections, pendingSection{name, kind, data})
}

// Section returns the bytes of a section added to the plan.
func (p *Plan) Section(name string) ([]byte, error) {
	for _, s := range p.sections {
		if s.name == name {
			return s.data, nil
		}
	}
	return nil, diag.Errorf(diag.InvalidArgument, "the plan has no section %q", name)
}

// Bytes returns the engine file.
func (p *Plan) Bytes() ([]byte, error) {
	w := NewWriter(p.Manifest)
	for _, s := range p.sections {
		if err := w.AddSection(s.name, s.kind, s.data); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Save writes the engine file to path, atomically: a reader never sees a
// half-written engine.
func (p *Plan) Save(path string) error {
	b, err := p.Bytes()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return diag.Wrap(diag.InvalidArgument, err, "cannot write engine %s", path)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return diag.Wrap(diag.InvalidArgument, werr, "cannot write engine %s", path)
	}
	return nil
}
