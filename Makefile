# Cognate: `make test` installs what the suites need and runs every test.

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
NPM         ?= npm
BIN         := bin/cognate

.PHONY: all build test check vet staticcheck fmt-check go-test timing conformance browser-deps fuzz bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/cognate

test: check go-test conformance

check: fmt-check vet staticcheck

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

# Race detector on: the domain, storage and key caches are concurrent.
# Timing tests then run in a pass of their own without it (the detector
# slows some code paths far more than others).
go-test:
	$(GO) test -race -count=1 ./...
	$(MAKE) timing

timing:
	$(GO) test -count=1 -run 'Timing' ./integration/

# Real clients against a freshly built `cognate serve`: the aws-amplify
# Auth client in Node (conformance/amplify), its Events client
# (conformance/events), the same clients against three nodes on one
# PostgreSQL database with NATS, then Redis, between them
# (conformance/multinode), then the hosted pages, Amplify's
# signInWithRedirect, the session library's demo app and its live panel in
# Debian's Chromium (conformance/browser).
# Then @cognate-auth/amplify-nextjs with the real adapter-nextjs
# (npm/amplify-nextjs), and examples/nextjs built once and run in Chromium
# (conformance/nextjs).
conformance: build browser-deps
	cd conformance/amplify && $(NPM) ci --no-audit --no-fund && COGNATE_BIN=$(CURDIR)/$(BIN) $(NPM) test
	cd conformance/events && $(NPM) ci --no-audit --no-fund && COGNATE_BIN=$(CURDIR)/$(BIN) $(NPM) test
	cd conformance/multinode && $(NPM) ci --no-audit --no-fund && COGNATE_BIN=$(CURDIR)/$(BIN) $(NPM) test
	cd conformance/browser && $(NPM) ci --no-audit --no-fund && COGNATE_BIN=$(CURDIR)/$(BIN) $(NPM) test
	cd npm/amplify-nextjs && $(NPM) ci --no-audit --no-fund && COGNATE_BIN=$(CURDIR)/$(BIN) $(NPM) test
	cd examples/nextjs && $(NPM) ci --no-audit --no-fund
	cd conformance/nextjs && $(NPM) ci --no-audit --no-fund && COGNATE_BIN=$(CURDIR)/$(BIN) $(NPM) test

# The browser suite drives Debian's chromium package (never a downloaded
# browser build).
browser-deps:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# Short runs of every fuzz target (go test runs their seed corpora anyway).
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	bash bench/run.sh

clean:
	rm -rf bin
