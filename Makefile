# slotcache build. `make` builds build/slotcache-server; `make test` runs every
# test (unit, integration, sanitizer builds); `make run` starts the server on
# its defaults; `make bench` compares it with redis-server side by side.
# Build variants live in their own directories: build/ (release),
# build/asan/ (ASan+UBSan), build/tsan/ (ThreadSanitizer).

CC      ?= cc
VARIANT ?= release
CSTD     = -std=c11 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Werror -Wno-unused-parameter
INCS     = -Iproto -Iserver -Icluster -I/usr/include/liblzf
LIBS     = -luv -lck -llzf -lpthread -lm

ifeq ($(VARIANT),release)
  BUILD   = build
  OPT     = -O2 -g
  SANFLAGS =
else ifeq ($(VARIANT),asan)
  BUILD   = build/asan
  OPT     = -O1 -g -fno-omit-frame-pointer
  SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined
else ifeq ($(VARIANT),tsan)
  BUILD   = build/tsan
  OPT     = -O1 -g -fno-omit-frame-pointer
  SANFLAGS = -fsanitize=thread
endif

CFLAGS  += $(CSTD) $(WARN) $(OPT) $(SANFLAGS) $(INCS) -MMD -MP
LDFLAGS += $(SANFLAGS)

PROTO_SRC   = $(wildcard proto/*.c)
SERVER_SRC  = $(filter-out server/main.c,$(wildcard server/*.c))
CLUSTER_SRC = $(wildcard cluster/*.c)
LIB_OBJ     = $(patsubst %.c,$(BUILD)/obj/%.o,$(PROTO_SRC) $(SERVER_SRC) $(CLUSTER_SRC))
MAIN_OBJ    = $(BUILD)/obj/server/main.o
SERVER_BIN  = $(BUILD)/slotcache-server

UNIT_SRC    = $(wildcard tests/unit/test_*.c)
UNIT_BIN    = $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
SUPPORT_SRC = $(wildcard tests/support/*.c)
SUPPORT_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(SUPPORT_SRC))
INTEG_SRC   = $(wildcard tests/integration/test_*.c)
INTEG_BIN   = $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRC))
CTEST_SRC   = $(wildcard tests/cluster/test_*.c)
CTEST_BIN   = $(patsubst tests/cluster/%.c,$(BUILD)/tests/cluster/%,$(CTEST_SRC))

.PHONY: all deps run test test-unit test-integration test-cluster test-diffcheck test-asan test-tsan bench \
        clean tests-build

all: $(SERVER_BIN)

deps:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libslotcache.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# --whole-archive: every module is linked even when only the command table
# refers to it.
$(SERVER_BIN): $(MAIN_OBJ) $(BUILD)/libslotcache.a
	$(CC) $(LDFLAGS) -o $@ $(MAIN_OBJ) -Wl,--whole-archive $(BUILD)/libslotcache.a -Wl,--no-whole-archive $(LIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libslotcache.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libslotcache.a $(LDFLAGS) $(LIBS) -lcriterion

$(BUILD)/tests/integration/%: tests/integration/%.c $(SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/support -o $@ $< $(SUPPORT_OBJ) $(LDFLAGS) -lhiredis -lcriterion -lpthread

# Cluster tests start several nodes each (tests/support/cluster_proc.h).
$(BUILD)/tests/cluster/%: tests/cluster/%.c $(SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/support -o $@ $< $(SUPPORT_OBJ) $(LDFLAGS) -lhiredis -lcriterion -lpthread

tests-build: $(SERVER_BIN) $(UNIT_BIN) $(INTEG_BIN) $(CTEST_BIN)

run: deps $(SERVER_BIN)
	$(SERVER_BIN) --bind 127.0.0.1 --port 6379

# The builds inside the test targets compile two files at a time unless the
# caller chose a -j itself (.ci/run calls a plain `make test` on 2 cores).
TEST_MAKE = $(MAKE) $(if $(filter -j%,$(MAKEFLAGS)),,-j2)

# The one entry point: release unit + integration + cluster tests, then the
# same suites under ASan+UBSan, then the threaded and cluster suites under
# TSan.
test: deps
	@s=0; mkdir -p build; rm -f build/test-summary; \
	if $(TEST_MAKE) tests-build; then sh scripts/run-tests.sh build all || s=1; \
	else s=1; echo "make test: the release build failed" >>build/test-summary; fi; \
	$(MAKE) test-asan || { s=1; grep -q "^run-tests asan" build/test-summary || \
		echo "make test: test-asan failed before its tests ran" >>build/test-summary; }; \
	$(MAKE) test-tsan || { s=1; grep -q "^run-tests tsan" build/test-summary || \
		echo "make test: test-tsan failed before its tests ran" >>build/test-summary; }; \
	echo "make test: summary of every stage:"; cat build/test-summary 2>/dev/null; \
	if [ $$s -ne 0 ]; then echo "make test: FAILED (see the run-tests lines above)"; fi; \
	exit $$s

test-unit: $(SERVER_BIN) $(UNIT_BIN)
	sh scripts/run-tests.sh $(BUILD) unit

test-integration: tests-build
	sh scripts/run-tests.sh $(BUILD) integration

# tests/cluster: multi-node binaries and tests/cluster/*.sh (make test runs
# them too, in every variant).
test-cluster: tests-build
	sh scripts/run-tests.sh $(BUILD) cluster

# tests/cases/*.txt against redis-server through tests/support/diffcheck.py.
test-diffcheck: $(SERVER_BIN)
	sh scripts/run-tests.sh $(BUILD) diffcheck

test-asan:
	$(TEST_MAKE) VARIANT=asan tests-build
	sh scripts/run-tests.sh build/asan sanitizer

# Criterion itself crashes when built with -fsanitize=thread, so the threaded
# suites are the release-built test binaries driving the TSan-built server.
test-tsan:
	$(TEST_MAKE) VARIANT=tsan build/tsan/slotcache-server
	$(TEST_MAKE) tests-build
	sh scripts/run-tests.sh build/tsan threaded

bench: deps $(SERVER_BIN)
	sh scripts/bench.sh

clean:
	rm -rf build

.SECONDARY: $(SUPPORT_OBJ) $(LIB_OBJ)

-include $(shell find build -name '*.d' 2>/dev/null)
