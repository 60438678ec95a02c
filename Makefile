# straddle — build, set up a machine, test.
#
#   make deps    install what a fresh Debian machine needs (apt packages, dockerd, local images)
#   make test    run every test against real servers
#   make bench   run the benchmarks (figures, not pass/fail; make bench-load: docs/load.md's)
#   make images IMAGES="postgres:17 mariadb:11.8"   build local images of other versions (IMAGES=all: seven)
#   make conformance-versions   build all seven images and run the conformance suite on each
#   make cookbook-versions      a cookbook subset on all seven (CI runs both after make test)

GO ?= go
SHELL := /bin/bash
BIN := bin/straddle

# testcontainers-go: the reaper image can't be pulled here (and is often blocked in
# corporate CI); straddle removes its own containers. This machine looks like a
# container to testcontainers, which would otherwise dial the default gateway.
export TESTCONTAINERS_RYUK_DISABLED := true
export TESTCONTAINERS_HOST_OVERRIDE := 127.0.0.1
# Tests run the docker provider on images built locally by `make images` (no registry).
export STRADDLE_IMAGE_POSTGRES ?= straddle-local/postgres:15
export STRADDLE_IMAGE_MARIADB ?= straddle-local/mariadb:10.11

APT_PACKAGES := postgresql postgresql-contrib mariadb-server mariadb-client docker.io debootstrap git ca-certificates

.PHONY: all build straddle deps apt sqlc docker images conformance-versions cookbook-versions lint-actions test test-short bench bench-load fuzz vet fmt check clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/straddle

# straddle: build, then run the binary with ARGS (and this Makefile's environment).
# Its exit code is printed rather than turned into make's "Error 1": an
# incompatible verdict is an answer, not a failure of make.
straddle: build
	@$(BIN) $(ARGS); code=$$?; case $$code in \
		0) ;; \
		1) echo "straddle: exit code 1 (incompatible)";; \
		2) echo "straddle: exit code 2 (bad usage or input)";; \
		*) echo "straddle: exit code $$code (environment failure)";; \
	esac

deps: apt docker images sqlc
	$(GO) mod download

# sqlc: the sqlc that generated examples/sqlc's Go code, for the test that
# regenerates it (TestSQLCExampleGenerated); built with cgo from the module proxy
# into .cache/bin, skipped when present.
SQLC_VERSION ?= v1.31.1
SQLC ?= $(CURDIR)/.cache/bin/sqlc
export STRADDLE_SQLC := $(wildcard $(SQLC))
sqlc:
	@if [ -x $(SQLC) ]; then echo "sqlc: $(SQLC) present"; \
	else echo "sqlc: building $(SQLC_VERSION) (cgo)"; GOBIN=$(dir $(SQLC)) CGO_ENABLED=1 $(GO) install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION); fi

# apt: install the server binaries (local provider), docker and debootstrap (images).
apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "apt: installing$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "apt: all packages present"; fi

# docker: start dockerd when no daemon answers (no systemd on CI machines).
docker:
	@bash fixtures/images/dockerd.sh

# images: the two default images (what the tests use); IMAGES picks others:
# postgres:13 postgres:15 postgres:17 postgres:18 mariadb:10.5 mariadb:10.11
# mariadb:11.8, or all. Built images whose inputs are unchanged are skipped.
IMAGES ?=
images: docker
	@bash fixtures/images/build.sh $(IMAGES)

# conformance-versions: every engine version of fixtures/images, built (about 20
# minutes from nothing, skipped when built) and put through the conformance suite.
ALL_VERSIONS := postgres:13 postgres:15 postgres:17 postgres:18 mariadb:10.5 mariadb:10.11 mariadb:11.8
conformance-versions: docker
	@bash fixtures/images/build.sh all
	set -o pipefail; STRADDLE_IMAGE_POSTGRES='straddle-local/postgres:{version}' STRADDLE_IMAGE_MARIADB='straddle-local/mariadb:{version}' \
	STRADDLE_CONFORMANCE_ENGINES="$(ALL_VERSIONS)" \
		$(GO) test -count=1 -run 'TestConformance' -v ./harness/engine/docker/ | grep -E -- '^(ok|FAIL|panic:)|^\s*--- (FAIL|PASS: TestConformance/[^/]*/[^/]*\s)'

# cookbook-versions: a subset of the cookbook (naive and safe changes, the version-sensitive
# ones: prepared statements, enums, views, NOT NULL) on every engine version, docker provider.
COOKBOOK_SUBSET := ^(add_column_nullable|add_column_not_null_naive|rename_column_naive|rename_column_triggers|rename_table_view|rename_enum_value_naive|prepared_select_star_add_column|drop_column_contract)$$
cookbook-versions: build docker
	@bash fixtures/images/build.sh all
	STRADDLE_IMAGE_POSTGRES='straddle-local/postgres:{version}' STRADDLE_IMAGE_MARIADB='straddle-local/mariadb:{version}' \
		$(BIN) run --provider docker --engine postgres:13,15,17,18 --engine mariadb:10.5,10.11,11.8 \
		--run '$(COOKBOOK_SUBSET)' --reports failed scenarios/cookbook

# lint-actions: the GitHub Actions workflows users copy (.github/workflows) pass
# actionlint (pinned; run from the module proxy, not a dependency of straddle).
ACTIONLINT ?= github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
lint-actions:
	$(GO) run $(ACTIONLINT) .github/workflows/*.yml

# test: every test, verbose into $(TESTLOG); the terminal gets each package's result,
# every skipped or failed test (with the failure's output), and the conformance and
# SIGINT subtests per provider and engine, so a run shows what really ran.
TESTLOG ?= $(CURDIR)/.cache/test.log
test:
	@mkdir -p $(dir $(TESTLOG))
	@set -o pipefail; $(GO) test -count=1 -timeout 40m -v ./... > $(TESTLOG) 2>&1; status=$$?; \
	grep -E -- '^(ok|FAIL|panic:)|^\s*--- (SKIP|FAIL)|^\s*--- PASS: (TestConformance|TestSIGINTLeavesNothing)/[^/]*/[^/]*\s' $(TESTLOG); \
	if [ $$status -ne 0 ]; then echo; echo "== failures (full log: $(TESTLOG)) =="; \
	  grep -B30 -A3 -E -- 'FAIL: [^ ]*\.txtar:[0-9]+' $(TESTLOG) | head -200; \
	  grep -B3 -A40 -E -- '^\s*--- FAIL' $(TESTLOG) | head -300; fi; \
	echo "tests: $$(grep -cE '^--- PASS' $(TESTLOG)) passed, $$(grep -cE '^--- FAIL' $(TESTLOG)) failed, $$(grep -cE '^--- SKIP' $(TESTLOG)) skipped"; \
	exit $$status

test-short:
	$(GO) test -short -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 30m ./harness/... ./internal/cli/

# fuzz: every fuzz target of the repository, one at a time, for FUZZTIME each
# (plain `go test` runs their committed corpora as regression tests). Minimizing
# a new input is capped by runs, not time: with the default 60 s, the large
# seeds (certificates, cookbook scripts) spent most of the budget minimizing.
# A bare "context deadline exceeded" at the end with no input written to
# testdata/fuzz is Go's coordinator race (go.dev/issue/75804, fixed in Go 1.27),
# not a finding.
FUZZTIME ?= 2m
FUZZMINIMIZE ?= 10x
fuzz:
	@for d in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$d/*_test.go | cut -c6-); do \
	    echo "== $$d $$t"; $(GO) test $$d -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) -parallel 1 || exit 1; \
	  done; \
	done

# bench-load: only the load-mode and fixture benchmarks (docs/load.md), about 4 minutes.
bench-load:
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 30m ./harness/runner/ ./harness/fixture/

vet: lint-actions
	$(GO) vet ./...
	@out=$$(gofmt -l . | grep -v '^testdata/'); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi

clean:
	rm -rf bin
