# chainwatch — see README.md. `make demo` runs the main job; `make test` runs the whole suite.
SHELL := /bin/bash
GO ?= go
BIN := bin/chainwatch
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/chainwatch/chainwatch/internal/app.Version=$(VERSION)

.PHONY: build demo test test-short check up down tools bench soak fmt vet

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/chainwatch

# The main job: local ClickHouse + Kafka (installed and started if absent), the daemon, the bundled samples.
demo: build
	bash deploy/local/demo.sh

# The whole suite: tools and local servers first, then unit and integration tests.
test: check
	bash deploy/local/tools.sh
	bash deploy/local/up.sh
	$(GO) test -count=1 -timeout 30m -p 2 ./...
	# The detectors again under the race detector: the analysis steps, the pair chunks and the
	# detectors' scoring run concurrently and share the runner's memos.
	$(GO) test -race -count=1 -timeout 15m ./detectors/
	# The cluster tests (3 Kafka brokers, 2x2 ClickHouse + ZooKeeper, 2 daemons) start the cluster
	# themselves and run alone, after the suite; the cluster is stopped afterwards, pass or fail.
	# One package at a time (-p 1): internal/app's failover test kills a broker and a ClickHouse
	# node, which another package's test must not be using at that moment.
	CHAINWATCH_CLUSTER=1 $(GO) test -count=1 -timeout 15m -p 1 -run 'Cluster' ./internal/app/ ./internal/chstore/ ./detectors/; \
		status=$$?; bash deploy/local/cluster.sh down; exit $$status

test-short:
	$(GO) test -short -count=1 ./...

up:
	bash deploy/local/up.sh

down:
	bash deploy/local/down.sh

tools:
	bash deploy/local/tools.sh

# Benchmarks print their figures; see docs/benchmarks.md.
bench:
	bash deploy/local/up.sh
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./internal/sink/ ./collectors/ ./detectors/
	CHAINWATCH_BENCH=1 $(GO) test -count=1 -run '^TestBench$$' -v -timeout 240m ./internal/app/  # -> bench/results.json
	CHAINWATCH_SCALEBENCH=1 $(GO) test -count=1 -run '^(TestScaleBench|TestBetweennessCostMeasure)$$' -v -timeout 30m ./detectors/

# The fault-injection suite with the long sizes (1M events, 30 s / 60 s outages); see docs/reliability.md.
# `make test` runs the same tests with the CI sizes.
soak:
	bash deploy/local/up.sh
	CHAINWATCH_SOAK=1 $(GO) test -count=1 -p 1 -run '^TestFault.*Integration$$' -v -timeout 120m ./internal/app/

# Go native fuzzing: every parser and decoder for FUZZTIME each (their checked-in seed corpora in
# <package>/testdata/fuzz/FuzzXxx run as plain tests in `make test`). A crasher is written there too:
# keep it as a regression seed (docs/reliability.md).
FUZZTIME ?= 30s
FUZZ_TARGETS := collectors:FuzzTrade collectors:FuzzComtradeCSVLine collectors:FuzzBACI collectors:FuzzUSGS \
	collectors:FuzzOCDS collectors:FuzzAvailability collectors:FuzzSupplyMapCSV collectors:FuzzSupplyMapYAML \
	collectors:FuzzWillems collectors:FuzzSubstitution collectors:FuzzDupJSONKey schemas:FuzzDecode schemas:FuzzDecodeProto internal/config:FuzzLoad
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "== $$fn ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) ./$$pkg/; done

# Static checks: formatting, vet, staticcheck (pinned as a go.mod tool), go.mod tidy, the
# repository-wide code-health tests (function length, import graph, dependency direction), and the
# Helm chart's lint and template test (deploy/helm/chartcheck, its own module).
check:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) mod tidy -diff
	$(GO) test -count=1 ./internal/codehealth/
	# The Helm chart, linted and rendered by the Helm Go module (a nested module: Helm stays out of go.mod).
	cd deploy/helm/chartcheck && $(GO) vet ./... && $(GO) mod tidy -diff && $(GO) test -count=1 ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...
