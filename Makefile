# trtc developer tasks. `make test` is the command the README and CI run.
GO ?= go
# A count of executions, not a duration: with a duration, Go's fuzzing
# coordinator can fail a run with "context deadline exceeded" when a worker
# is mid-execution as the time runs out (a race, golang/go#75804), which
# made CI fail without any failing input.
FUZZTIME ?= 40000x

.PHONY: test testdata vet fmt fuzz bench

test: testdata fmt vet
	$(GO) test ./...

# The ONNX backend test data (Debian's libonnx-testdata) that the
# conformance test runs. Installed where apt-get works (as root); elsewhere
# the conformance test skips and says so.
testdata:
	@if [ ! -d /usr/share/libonnx-testdata/data/node ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq libonnx-testdata >/dev/null; \
	fi

vet:
	$(GO) vet ./...

# fmt fails when a file is not gofmt'd (it does not rewrite anything).
fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Fuzz every parser of untrusted bytes for FUZZTIME each.
fuzz:
	$(GO) test ./tensor -run '^$$' -fuzz '^FuzzReadNPY$$' -fuzztime $(FUZZTIME) -timeout 5m
	$(GO) test ./tensor -run '^$$' -fuzz '^FuzzReadSafetensors$$' -fuzztime $(FUZZTIME) -timeout 5m
	$(GO) test ./importers/onnx -run '^$$' -fuzz '^FuzzParseModel$$' -fuzztime $(FUZZTIME) -timeout 5m
	$(GO) test ./importers/onnx -run '^$$' -fuzz '^FuzzImport$$' -fuzztime $(FUZZTIME) -timeout 5m
	$(GO) test ./engine -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) -timeout 5m
	$(GO) test ./internal/target/cpu -run '^$$' -fuzz '^FuzzLoadSections$$' -fuzztime $(FUZZTIME) -timeout 5m
	$(GO) test ./dsl -run '^$$' -fuzz '^FuzzDecodeNetwork$$' -fuzztime $(FUZZTIME) -timeout 5m
	$(GO) test ./internal/timingcache -run '^$$' -fuzz '^FuzzLoadTimingCache$$' -fuzztime $(FUZZTIME) -timeout 5m

# CPU engine benchmarks (ResNet-18 at batch 1 among them).
bench:
	$(GO) test ./examples/... ./internal/target/cpu -run '^$$' -bench . -benchtime 5x
