// Package plugins is the registry of custom layers written in Go: ops that
// no DSL layer covers (TensorRT's plugin registry, IPluginCreatorV3One and
// IPluginV3).
//
// A plugin is one Go file: Define(Spec{...}) declares its name, version,
// namespace, typed attributes with defaults, type and shape rules, the
// input types it supports, a Go CPU implementation (required: the
// reference and the CPU target) and an optional CUDA C kernel with its
// launch function, and registers a Creator for it. Hand-written Creators
// go through Register; both panic on a duplicate at init with both call
// sites.
//
// Plugins are used everywhere a layer can go: dsl.Network.AddPlugin by
// name (this package installs itself as the dsl's resolver), the ONNX
// importer's fallback for ops it has no importer for, and engines, which
// carry plugin layers by reference (name, version, namespace, attribute
// values) and recreate them from this registry at load. A binary that
// loads such an engine must import the package that defines the plugin;
// docs/plugins.md shows how to build a trtc command that does.
package plugins
