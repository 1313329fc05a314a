// Package plugins will be the registry of custom layers written in Go
// (name, version, namespace, attributes, type and shape rules, a CPU
// implementation and an optional CUDA kernel). It is specified by the issue
// "Plugins" and holds no code yet. The DSL already has the hook it will
// implement: dsl.Plugin and Network.AddPluginV3.
package plugins
