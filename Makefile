# trtc developer tasks. `make test` is the command the README and CI run.
GO ?= go
FUZZTIME ?= 10s

.PHONY: test vet fmt fuzz bench

test: fmt vet
	$(GO) test ./...

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

# CPU engine benchmarks (ResNet-18 at batch 1 among them).
bench:
	$(GO) test ./examples/... ./internal/target/cpu -run '^$$' -bench . -benchtime 5x
