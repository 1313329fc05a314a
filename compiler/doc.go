// Package compiler will turn a dsl.Network into an engine plan: the pass
// pipeline (folding, simplification, fusion, precision), optimization
// profiles and tactic selection, then a target. It is specified by the issue
// "The compiler pipeline, the engine file, and the trtc command" and holds
// no code yet; until then internal/target/cpu runs networks directly.
package compiler
