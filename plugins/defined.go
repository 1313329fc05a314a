package plugins

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/tensor"
)

// defined is the Creator that Define registers for a Spec.
type defined struct {
	spec     Spec
	attr     map[string]*Attr
	defaults Values
	nbIn     int // -1: any number
	nbOut    int
}

// reserved attribute names: the ONNX importer and AddPlugin read them to
// pick the plugin, so a plugin cannot declare them.
var reserved = []string{"plugin_version", "plugin_namespace"}

func newDefined(s Spec) (*defined, error) {
	if s.Name == "" {
		return nil, fmt.Errorf("the Spec has no Name")
	}
	if s.Version == "" {
		s.Version = "1"
	}
	d := &defined{spec: s, attr: map[string]*Attr{}, defaults: Values{}, nbIn: -1, nbOut: s.NbOutputs}
	if s.CPU == nil {
		return nil, fmt.Errorf("%s has no CPU implementation; it is required (the reference and the CPU target)", d.id())
	}
	if d.nbOut == 0 {
		d.nbOut = 1
	}
	if d.nbOut < 0 {
		return nil, fmt.Errorf("%s: NbOutputs is %d", d.id(), s.NbOutputs)
	}
	switch {
	case s.NbInputs < 0:
		return nil, fmt.Errorf("%s: NbInputs is %d", d.id(), s.NbInputs)
	case s.NbInputs > 0:
		d.nbIn = s.NbInputs
	case s.SupportedTypes != nil:
		d.nbIn = len(s.SupportedTypes)
	}
	if s.SupportedTypes != nil && len(s.SupportedTypes) != d.nbIn {
		return nil, fmt.Errorf("%s: SupportedTypes has %d entries for %d inputs", d.id(), len(s.SupportedTypes), d.nbIn)
	}
	for i, ts := range s.SupportedTypes {
		for _, t := range ts {
			if !t.Valid() {
				return nil, fmt.Errorf("%s: SupportedTypes[%d] holds %v, which is not a data type", d.id(), i, t)
			}
		}
	}
	if d.nbIn == 0 && s.OutputTypes == nil {
		return nil, fmt.Errorf("%s takes no inputs, so it needs an OutputTypes rule", d.id())
	}
	for i := range s.Attrs {
		a := &s.Attrs[i]
		switch {
		case a.Name == "":
			return nil, fmt.Errorf("%s: attribute %d has no name", d.id(), i)
		case slices.Contains(reserved, a.Name):
			return nil, fmt.Errorf("%s: attribute name %q is reserved (it selects the plugin)", d.id(), a.Name)
		case d.attr[a.Name] != nil:
			return nil, fmt.Errorf("%s declares attribute %q twice", d.id(), a.Name)
		case attrTypeNames[a.Type] == "":
			return nil, fmt.Errorf("%s: attribute %q has type %v", d.id(), a.Name, a.Type)
		}
		d.attr[a.Name] = a
		if a.Default != nil {
			v, err := convert(a.Type, a.Default)
			if err != nil {
				return nil, fmt.Errorf("%s: attribute %q (%s) %v as its default", d.id(), a.Name, a.Type, err)
			}
			d.defaults[a.Name] = v
		}
	}
	if k := s.CUDA; k != nil {
		switch {
		case strings.TrimSpace(k.Source) == "":
			return nil, fmt.Errorf("%s: the CUDA kernel has no Source", d.id())
		case k.Entry == "" || !strings.Contains(k.Source, k.Entry):
			return nil, fmt.Errorf("%s: the CUDA kernel's Entry %q is not a function of its Source", d.id(), k.Entry)
		case k.Launch == nil:
			return nil, fmt.Errorf("%s: the CUDA kernel has no Launch function", d.id())
		}
	}
	return d, nil
}

func (d *defined) id() string {
	return fmt.Sprintf("plugin %q version %q namespace %q", d.spec.Name, d.spec.Version, d.spec.Namespace)
}

func (d *defined) Name() string      { return d.spec.Name }
func (d *defined) Version() string   { return d.spec.Version }
func (d *defined) Namespace() string { return d.spec.Namespace }

// Create validates attrs (see AttrType for the conversions) and returns
// the configured plugin, an *Instance.
func (d *defined) Create(attrs map[string]any) (dsl.Plugin, error) {
	vals, err := d.bind(attrs)
	if err != nil {
		return nil, err
	}
	return &Instance{d: d, vals: vals}, nil
}

// Spec returns the declaration the creator was defined from.
func (d *defined) Spec() Spec { return d.spec }

// Instance is a plugin made by a Define'd creator: the Spec bound to
// validated attribute values. It implements dsl.Plugin and CUDAPlugin.
type Instance struct {
	d    *defined
	vals Values
}

var _ CUDAPlugin = (*Instance)(nil)

func (p *Instance) PluginName() string      { return p.d.spec.Name }
func (p *Instance) PluginVersion() string   { return p.d.spec.Version }
func (p *Instance) PluginNamespace() string { return p.d.spec.Namespace }
func (p *Instance) NbOutputs() int          { return p.d.nbOut }

// Spec returns the plugin's declaration.
func (p *Instance) Spec() Spec { return p.d.spec }

// Values returns the attribute values, defaults included (shared: do not
// modify).
func (p *Instance) Values() Values { return p.vals }

// Attributes returns every attribute value, defaults included, in the
// declared type's Go type; Create accepts them back (engines recreate the
// plugin from them).
func (p *Instance) Attributes() map[string]any {
	out := make(map[string]any, len(p.vals))
	for k, v := range p.vals {
		out[k] = v
	}
	return out
}

// CUDAKernel returns the plugin's kernel, or nil.
func (p *Instance) CUDAKernel() *CUDAKernel { return p.d.spec.CUDA }

func (p *Instance) checkCount(n int) error {
	if p.d.nbIn >= 0 && n != p.d.nbIn {
		return diag.Errorf(diag.InvalidNode, "it takes %d input(s), got %d", p.d.nbIn, n)
	}
	return nil
}

// OutputTypes checks the input count and SupportedTypes, then applies the
// Spec's type rule.
func (p *Instance) OutputTypes(in []dsl.DataType) ([]dsl.DataType, error) {
	if err := p.checkCount(len(in)); err != nil {
		return nil, err
	}
	for i, ts := range p.d.spec.SupportedTypes {
		if len(ts) > 0 && !slices.Contains(ts, in[i]) {
			return nil, diag.Errorf(diag.TypeMismatch, "input %d is %v; %s supports %s there", i, in[i], p.d.spec.Name, typeList(ts))
		}
	}
	if p.d.spec.OutputTypes == nil {
		return repeat(in[0], p.d.nbOut), nil
	}
	return p.d.spec.OutputTypes(slices.Clone(in), p.vals)
}

// OutputDims checks the input count, then applies the Spec's shape rule.
func (p *Instance) OutputDims(in []dsl.Dims) ([]dsl.Dims, error) {
	if err := p.checkCount(len(in)); err != nil {
		return nil, err
	}
	if p.d.spec.OutputDims == nil {
		if len(in) == 0 {
			return nil, diag.Errorf(diag.InvalidNode, "it takes no inputs and has no OutputDims rule")
		}
		out := make([]dsl.Dims, p.d.nbOut)
		for i := range out {
			out[i] = in[0].Clone()
		}
		return out, nil
	}
	cp := make([]dsl.Dims, len(in))
	for i, d := range in {
		cp[i] = d.Clone()
	}
	return p.d.spec.OutputDims(cp, p.vals)
}

// ExecuteCPU runs the Spec's Go implementation.
func (p *Instance) ExecuteCPU(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := p.checkCount(len(in)); err != nil {
		return nil, err
	}
	return p.d.spec.CPU(in, p.vals)
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func typeList(ts []dsl.DataType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}
