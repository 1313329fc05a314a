// Package plugins is the registry of custom layers written in Go: ops that
// no DSL layer covers. A plugin registers a Creator under a name, version
// and namespace (TensorRT's plugin registry keys); importers look unknown
// ops up here and add the dsl.Plugin the creator makes as a Plugin layer
// (dsl.Network.AddPluginV3), which every target runs (the CPU engine through
// dsl.Plugin.ExecuteCPU).
//
// This is the registry the ONNX importer's fallback needs. Declared
// attribute schemas, CUDA kernels and engines that carry plugins by
// reference come with the issue "Plugins".
package plugins
