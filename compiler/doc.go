// Package compiler turns a dsl.Network into an engine plan, the way
// TensorRT's IBuilder turns an INetworkDefinition into a serialized engine:
//
//	plan, err := compiler.Build(net, compiler.DefaultConfig())
//	eng, err := engine.LoadPlan(plan)       // or plan.Save("model.engine")
//
// Build checks the network and the configuration (target, precision,
// optimization profiles, optimization level), runs the pass pipeline
// (dead-layer elimination, constant folding, common subexpressions,
// identity and shuffle elimination, BatchNorm/Scale folding, Q/DQ
// propagation, autocast to fp16/bf16, fusion), hands the optimized graph to
// the target, and writes the engine manifest with a build report (layers,
// precisions, fusions, tactics, pass timings) that trtc inspect shows.
package compiler
