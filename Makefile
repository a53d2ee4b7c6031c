# Thin front door over CMake. `make` builds build/tokgate and libtokgate;
# `make test` installs what the tests need (scripts/setup.sh), builds with
# ASan+UBSan in build-asan/ and runs every test; `make demo` is the main job
# (the gateway in front of a real llama-server).
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
CONFDIR ?=
DEBDIR ?= build-deb
BUILD ?= build
CMAKE ?= cmake

.PHONY: all build test check fuzz bench demo limits-demo install deb deps clean lint

all: build

build:
	@test -f $(BUILD)/CMakeCache.txt || $(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	$(CMAKE) --build $(BUILD) -j$(JOBS)

deps:
	bash scripts/setup.sh --test

# The README's test command: set-up, sanitizer build, every test, fuzz smoke.
test: deps
	@test -f build-asan/CMakeCache.txt || $(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTG_SANITIZE=ON
	$(CMAKE) --build build-asan -j$(JOBS)
	TG_LLAMA_SERVER=$$(bash scripts/llama-server.sh) && export TG_LLAMA_SERVER && \
	  cd build-asan && ctest --output-on-failure -j$(JOBS)
	@# The sanitizer run samples the big HF comparisons; the full proof (every
	@# document of the 20+ MB corpus and the edge cases) runs in the release build.
	@# ThreadSanitizer: the library and its concurrency tests only (the shared
	@# pre-token cache, the adaptive table), in build-tsan (CMake TG_TSAN).
	@test -f build-tsan/CMakeCache.txt || $(CMAKE) -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_TSAN=ON
	$(CMAKE) --build build-tsan -j$(JOBS)
	cd build-tsan && ctest --output-on-failure -j$(JOBS)
	$(MAKE) build
	cd build && ctest --output-on-failure -j$(JOBS) -R 'hf_corpus|llama_vectors|gguf_specials'
	bash scripts/fuzz-smoke.sh

# Plain build plus tests without sanitizers (faster, for benchmarks' sanity).
check: build
	cd build && ctest --output-on-failure -j$(JOBS)

# Static checks (cppcheck, clang-tidy with .clang-tidy); clean on main.
lint:
	bash scripts/lint.sh

fuzz:
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} bash scripts/fuzz-smoke.sh

# Benchmarks against the reference tools, same run, printing ratios
# (bench/all.sh, 10-12 minutes on 2 idle cores): tokenizers vs HF and
# llama-tokenize; the gateway vs direct and nginx; long bodies; memory per
# model and per stream; the simulations (KV admission, thinking budgets);
# then a SUMMARY of issue 17's targets. The log: build/bench.log.
# BENCH_PARTS="encode gateway body memory sims" picks parts; `make bench
# BENCH_QUICK=1` is a quick run (about 5 minutes); the knobs: bench/all.sh's
# top and docs/performance.md.
bench: build
	bash scripts/setup.sh --bench
	bash bench/all.sh

# The main job: llama-server with a tiny model, tokgate serve in front of it.
demo:
	bash scripts/gateway-demo.sh

limits-demo:
	bash scripts/limits-demo.sh

# Install under $(PREFIX) (every time: the prefix is given to the install step,
# not fixed when build/ was configured) into $(DESTDIR) when set. CONFDIR=DIR
# also installs the example config as DIR/tokgate.json (never over an existing
# one); without it the example is in $(PREFIX)/share/doc/tokgate/examples.
# BUILD=DIR installs from another build folder (the tests use build-asan).
install: build
	DESTDIR="$(DESTDIR)" TG_CONFDIR="$(CONFDIR)" $(CMAKE) --install $(BUILD) --prefix "$(PREFIX)"

# Debian packages (dpkg-buildpackage on a copy of the tree in $(DEBDIR)/src),
# then lintian, which must report no error. Needs scripts/setup.sh --deb.
deb:
	DEBDIR="$(DEBDIR)" JOBS="$(JOBS)" bash scripts/build-deb.sh

clean:
	rm -rf build build-asan build-tsan build-fuzz build-deb
