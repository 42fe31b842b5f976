# Healthbook: the two commands are `make run` and `make test`.
.PHONY: run test deps web web-test build build-all build-asan build-fuzz unit fuzz node-test browser-test bench format clean

PORT ?= 8080
DATA ?= var
FUZZ_SECONDS ?= 20
JOBS ?= $(shell nproc)

# The public URL is what clients put in their assertions' aud (<url>/auth/token).
run: export HEALTHBOOK_SERVER_PUBLIC_URL ?= http://localhost:$(PORT)

run: deps build web
	@test -f $(DATA)/master.key || ./build/release/healthbook init --data $(DATA)
	@test -f $(DATA)/.demo-loaded || (./build/release/healthbook demo --data $(DATA) && touch $(DATA)/.demo-loaded)
	./build/release/healthbook serve --data $(DATA) --listen 127.0.0.1:$(PORT)

test: deps web build-asan unit build-fuzz fuzz web-test node-test browser-test

deps:
	@./scripts/install-deps

# The web app (web/dist, served by `healthbook serve`). npm ci only when the lock is newer than the
# last install (scripts/install-deps keeps the same stamp).
web:
	@if [ ! -f web/node_modules/.hb-installed ] || [ web/package-lock.json -nt web/node_modules/.hb-installed ]; then \
	  (cd web && npm ci --no-audit --no-fund --loglevel=error) && touch web/node_modules/.hb-installed; fi
	cd web && npm run build

web-test: web
	cd web && npm test

# `make run` needs the server only; `make bench` builds everything (the load generators too).
build:
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target healthbook

build-all:
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

build-asan:
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

unit:
	ctest --preset asan -j 2

build-fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

fuzz:
	./scripts/run-fuzzers build/fuzz/fuzz $(FUZZ_SECONDS)

node-test:
	HB_BINARY=$(CURDIR)/build/asan/healthbook node --test tests/node/

# Chromium (Debian's /usr/bin/chromium) driven by playwright-core against the real server.
browser-test: web build-asan
	HB_BINARY=$(CURDIR)/build/asan/healthbook node --test --test-concurrency=1 tests/browser/

bench: deps build-all
	./scripts/bench

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf build web/dist
