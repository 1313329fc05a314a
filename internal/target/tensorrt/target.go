//go:build tensorrt

package tensorrt

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"unsafe"

	"github.com/trtc/trtc/diag"
	"github.com/trtc/trtc/dsl"
	"github.com/trtc/trtc/internal/ir"
	"github.com/trtc/trtc/internal/target"
)

func init() { target.Register(trtTarget{}) }

type trtTarget struct{}

func (trtTarget) Name() string { return "tensorrt" }

// Probe loads libnvinfer. The device architecture is left to TensorRT,
// which checks it when deserializing (and hardware-compatible plans run on
// several); internal/cuda will fill Arch once wired (see docs/tensorrt.md).
func (trtTarget) Probe() (target.Device, error) {
	path, v, err := loadLibrary()
	if err != nil {
		return target.Device{}, err
	}
	return target.Device{
		Name:      fmt.Sprintf("TensorRT %s (%s)", versionString(v), path),
		Libraries: map[string]string{"tensorrt": versionString(v)},
	}, nil
}

// Lower builds the TensorRT plan: network, builder config, profiles,
// timing cache, buildSerializedNetwork.
func (trtTarget) Lower(g *ir.Graph, b *target.Build) error {
	if _, _, err := loadLibrary(); err != nil {
		return err
	}
	opts := Options()
	id, sess := newSession(g.Net.Name())
	defer endSession(id)
	builder := C.trtc_builder_create(C.int64_t(id))
	if builder == nil {
		return sess.err("createInferBuilder")
	}
	defer C.trtc_builder_destroy(builder)
	net := C.trtc_network_create(builder, 0)
	if net == nil {
		return sess.err("createNetworkV2")
	}
	defer C.trtc_network_destroy(net)
	if err := registerPlugins(g.Net); err != nil {
		return err
	}
	lw := &lowerer{net: net, sess: sess, tensors: map[*dsl.Tensor]C.trtc_t{}, loops: map[*dsl.Loop]unsafe.Pointer{}, conds: map[*dsl.IfConditional]unsafe.Pointer{}}
	defer lw.free()
	pluginIDs := map[int64]bool{}
	lw.pluginIDs = pluginIDs
	defer func() {
		for id := range pluginIDs {
			releasePlugin(id)
		}
	}()
	if err := lw.lowerNetwork(g.Net); err != nil {
		return err
	}
	cfg := C.trtc_config_create(builder)
	if cfg == nil {
		return sess.err("createBuilderConfig")
	}
	defer C.trtc_config_destroy(cfg)
	if err := configure(lw, builder, cfg, b, opts); err != nil {
		return err
	}
	var size C.size_t
	plan := C.trtc_build(builder, net, cfg, &size)
	if plan == nil {
		return sess.err("buildSerializedNetwork")
	}
	data := C.GoBytes(plan, C.int(size))
	C.free(plan)
	if opts.TimingCache != "" {
		if err := saveTimingCache(cfg, opts.TimingCache); err != nil {
			b.Warnings = append(b.Warnings, err.Error())
		}
	}
	b.AddSection(SectionPlan, KindPlan, data)
	if b.Metadata == nil {
		b.Metadata = map[string]string{}
	}
	b.Metadata[MetaHeaderVersion] = strconv.Itoa(int(C.trtc_header_version()))
	b.Metadata[MetaLibraryVersion] = strconv.Itoa(int(C.trtc_library_version()))
	for _, f := range opts.flags() {
		b.Metadata["tensorrt.flag."+f] = "true"
	}
	if opts.HardwareCompatibility != "" {
		b.Metadata["tensorrt.hardware_compatibility"] = opts.HardwareCompatibility
	}
	return nil
}

func configure(lw *lowerer, builder, cfg unsafe.Pointer, b *target.Build, opts BuilderOptions) error {
	if b.WorkspaceLimit > 0 {
		C.trtc_config_set_workspace(cfg, C.int64_t(b.WorkspaceLimit))
	}
	C.trtc_config_set_opt_level(cfg, C.int32_t(b.Options.OptLevel))
	C.trtc_config_set_hardware_compat(cfg, C.int32_t(HardwareCompatibilityLevels[opts.HardwareCompatibility]))
	flags := opts.flags()
	if b.Options.TF32 {
		flags = append(flags, "tf32")
	} else {
		C.trtc_config_set_flag(cfg, lw.cstr("tf32"), 0) // TensorRT enables TF32 by default
	}
	for _, f := range flags {
		if C.trtc_config_set_flag(cfg, lw.cstr(f), 1) != 0 {
			return diag.Errorf(diag.UnsupportedAttr, "builder flag %q does not exist in TensorRT %s", f, versionString(int(C.trtc_header_version())))
		}
	}
	if opts.TacticSources != nil {
		names := make([]*C.char, len(opts.TacticSources)+1)
		for i, s := range opts.TacticSources {
			names[i] = lw.cstr(s)
		}
		if rc := C.trtc_config_set_tactic_sources(cfg, &names[0], C.int(len(opts.TacticSources))); rc != 0 {
			if rc < 0 && int(-rc-1) < len(opts.TacticSources) {
				return diag.Errorf(diag.UnsupportedAttr, "tactic source %q does not exist in TensorRT %s", opts.TacticSources[-rc-1], versionString(int(C.trtc_header_version())))
			}
			return lw.sess.err("setTacticSources")
		}
	}
	if opts.TimingCache != "" {
		blob, err := os.ReadFile(opts.TimingCache)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return diag.Wrap(diag.InvalidArgument, err, "TensorRT timing cache")
		}
		var p unsafe.Pointer
		if len(blob) > 0 {
			p = C.CBytes(blob)
			defer C.free(p)
		}
		if C.trtc_config_set_timing_cache(cfg, p, C.size_t(len(blob))) != 0 {
			return lw.sess.err("setTimingCache " + opts.TimingCache)
		}
	}
	for pi, p := range b.Profiles {
		prof := C.trtc_profile_create(builder)
		if prof == nil {
			return lw.sess.err("createOptimizationProfile")
		}
		for _, r := range p.Inputs {
			if len(r.Min) != len(r.Opt) || len(r.Min) != len(r.Max) {
				return diag.Errorf(diag.InvalidArgument, "profile %d, input %q: min, opt and max have different ranks", pi, r.Input)
			}
			if C.trtc_profile_set(prof, lw.cstr(r.Input), i64(r.Min), i64(r.Opt), i64(r.Max), C.int(len(r.Min))) != 0 {
				return lw.sess.err(fmt.Sprintf("profile %d setDimensions(%q)", pi, r.Input))
			}
		}
		if C.trtc_config_add_profile(cfg, prof) < 0 {
			return lw.sess.err(fmt.Sprintf("addOptimizationProfile %d", pi))
		}
	}
	return nil
}

func saveTimingCache(cfg unsafe.Pointer, path string) error {
	var blob unsafe.Pointer
	var size C.size_t
	if C.trtc_config_get_timing_cache(cfg, &blob, &size) != 0 {
		return fmt.Errorf("TensorRT timing cache %s: TensorRT gave none to save", path)
	}
	data := C.GoBytes(blob, C.int(size))
	C.free(blob)
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err == nil {
		_, err = tmp.Write(data)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		return fmt.Errorf("TensorRT timing cache %s not saved: %v", path, err)
	}
	return nil
}
