# trtc developer tasks. `make test` is the command the README and CI run.
GO ?= go
FUZZTIME ?= 10s

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
	$(GO) test ./tensor -run '^$$' -fuzz '^FuzzReadNPY$$' -fuzztime $(FUZZTIME)
	$(GO) test ./tensor -run '^$$' -fuzz '^FuzzReadSafetensors$$' -fuzztime $(FUZZTIME)
	$(GO) test ./importers/onnx -run '^$$' -fuzz '^FuzzParseModel$$' -fuzztime $(FUZZTIME)
	$(GO) test ./importers/onnx -run '^$$' -fuzz '^FuzzImport$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/target/cpu -run '^$$' -fuzz '^FuzzLoadSections$$' -fuzztime $(FUZZTIME)
	$(GO) test ./dsl -run '^$$' -fuzz '^FuzzDecodeNetwork$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/timingcache -run '^$$' -fuzz '^FuzzLoadTimingCache$$' -fuzztime $(FUZZTIME)

# CPU engine benchmarks (ResNet-18 at batch 1 among them).
bench:
	$(GO) test ./examples/... ./internal/target/cpu -run '^$$' -bench . -benchtime 5x
