#!/usr/bin/env bash
# Everything the CUDA target is checked with, in one call on the GPU
# machine, with the logs in one tarball (the device tool brings back a few
# files per call):
#
#   PARTS="tests conformance" bench/gpu/check.sh OUT
#   PARTS=bench bench/gpu/check.sh OUT [--compile]
#
# Needs .gpu/trtc (go build -o .gpu/trtc ./cmd/trtc), .gpu/cudatarget.test
# (go test -c -o .gpu/cudatarget.test ./internal/target/cuda) and, for the
# conformance run, .gpu/onnx/data.tgz (a tarball of Debian's
# libonnx-testdata data folder). Writes OUT/check.tgz and prints a summary.
# PARTS picks what runs (default: all three); the GPU suite takes about
# 200 s, conformance about 40 s and the benchmark about 250 s, so all three
# do not fit the device tool's 10 minutes a call: run the tests and
# conformance in one call and the benchmark in another.
set -uo pipefail
out=$1; shift
logs=$(mktemp -d)
root=$(cd "$(dirname "$0")/../.." && pwd)
parts=${PARTS:-tests conformance bench}
has() { [[ " $parts " == *" $1 "* ]]; }
cd "$root/internal/target/cuda"
if has tests; then
  timeout 330 "$root/.gpu/cudatarget.test" -test.v -test.skip Conformance -test.timeout 330s > "$logs/test.log" 2>&1
  echo "tests: exit $?" | tee -a "$logs/summary.txt"
  grep -E "^--- (FAIL|PASS)" "$logs/test.log" | grep -v "^    " | tee -a "$logs/summary.txt"
fi
if has conformance && [ -f "$root/.gpu/onnx/data.tgz" ]; then
  mkdir -p /tmp/onnx && tar xzf "$root/.gpu/onnx/data.tgz" -C /tmp/onnx
  ONNX_TESTDATA=/tmp/onnx/data timeout 180 "$root/.gpu/cudatarget.test" -test.v -test.run Conformance -test.timeout 180s > "$logs/conformance.log" 2>&1
  echo "conformance: exit $?" | tee -a "$logs/summary.txt"
  grep -E "passed|refused" "$logs/conformance.log" | tail -6 | tee -a "$logs/summary.txt"
fi
cd "$root"
if has bench; then
  timeout 500 bash bench/gpu/run.sh .gpu/trtc "$logs/bench" "$@" > "$logs/bench.log" 2>&1
  cat "$logs/bench/results.md" 2>/dev/null | tee -a "$logs/summary.txt"
fi
rm -f "$logs"/bench/*.onnx "$logs"/bench/*.engine
rm -rf "$logs"/bench/*_b1 "$logs"/bench/*_b32
mkdir -p "$out" && tar czf "$out/check.tgz" -C "$logs" .
