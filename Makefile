# SPDX-License-Identifier: Apache-2.0
#
# The README's two commands:
#   make run    set up whatever is missing, build, start the network and its
#               REST gateway (prints curl examples with the demo API keys)
#   make test   set up whatever is missing, build, run every test
# The real build is CMake (CMakeLists.txt); this file only sequences steps.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 20
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_GEN  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
RUN_DIR    ?= $(CURDIR)/run/network

.PHONY: all setup build asan test test-unit test-asan test-network test-gateway-asan fuzz run stop \
        bench clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DRESO_SANITIZE=ON

asan: $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test-unit: build
	cd $(BUILD) && ctest -L unit --output-on-failure -j $(JOBS)

test-asan: asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -L unit --output-on-failure -j $(JOBS)

$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DRESO_FUZZ=ON -DRESO_BUILD_TESTS=ON

fuzz: $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target reso_fuzz_all
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

test-network: build
	cd $(BUILD) && ctest -L network --output-on-failure

# The gateway's network tests again with the ASan+UBSan reso-gateway (ctest
# adds the network fixture by itself); a leak makes it exit non-zero.
test-gateway-asan: build asan
	cd $(BUILD) && RESO_GATEWAY_BIN=$(abspath $(ASAN_BUILD))/gateway/reso-gateway \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -R '^gateway_' --output-on-failure

test: setup
	$(MAKE) test-unit
	$(MAKE) test-asan
	$(MAKE) fuzz
	$(MAKE) test-network
	$(MAKE) test-gateway-asan

# The network starts with the default lookup profile 1.3; make run then
# activates the extended profile 1.5-ext through the real governance flow
# (an admin proposes, the admins of two of the three member orgs approve),
# so the association Education example it prints can be recorded.
run: setup build
	@$(BUILD)/cli/resoctl network up --run-dir $(RUN_DIR)
	@$(BUILD)/cli/resoctl catalog activate 1.5-ext --run-dir $(RUN_DIR) >/dev/null

stop:
	@$(BUILD)/cli/resoctl network down --run-dir $(RUN_DIR)

bench: setup build
	bench/run.sh --build $(BUILD) | tee $(BUILD)/bench-report.md

# reso-gateway: REST submit vs the Node client, SSE fan-out, EntityEvent pages.
.PHONY: bench-gateway
bench-gateway: setup build
	bench/gateway_bench.sh --build $(BUILD) | tee $(BUILD)/bench-gateway-report.md

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
