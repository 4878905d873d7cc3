# sfshm - top-level build.  Plain GNU make; quiet unless V=1.
#
#   make                 library, tools and tests (gcc by default)
#   make CC=clang        the same with clang
#   make deps            install missing Debian packages (root)
#   make demo            the main job: start sfshmd, 1M records there and back
#   make check           deps + build + the whole test suite
#   make check SAN=address,undefined   tests and benchmark smoke under
#                        ASan+UBSan (fuzz and model run in plain check)
#   make check-tsan      concurrency tests under ThreadSanitizer
#   make fuzz            run the libFuzzer targets (FUZZ_SECONDS each)
#   make model           check the ring protocol model with spin
#   make bench           sfbench ring (the full benchmark)
#   make format / format-check
#
# Build output goes to build/ (build-<san>/ for sanitizer builds).

VERSION := 0.1.0

ifeq ($(origin CC),default)
CC := gcc
endif

V ?= 0
Q := $(if $(filter 1,$(V)),,@)
E := $(if $(filter 1,$(V)),@true,@printf '  %-7s %s\n')

SAN ?=
comma := ,
BUILD ?= build$(if $(SAN),-$(subst $(comma),-,$(SAN)))
PREFIX ?= /usr/local

OPT ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers
SANFLAGS := $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all)
# gcc warns that TSan does not model atomic_thread_fence; we know (see
# docs/CODING.md: the seqlock fences are checked by the model and tests).
ifneq ($(findstring thread,$(SAN)),)
ifeq ($(findstring clang,$(CC)),)
SANFLAGS += -Wno-tsan
endif
endif
BASE_CFLAGS := -std=gnu11 $(OPT) $(WARN) -D_GNU_SOURCE -Iinclude -Ibpf -MMD -MP \
	$(SANFLAGS) $(CFLAGS)
LIB_CFLAGS := $(BASE_CFLAGS) -fPIC -fvisibility=hidden
LDLIBS_ALL := $(SANFLAGS) $(LDFLAGS)

LIB_SRCS := $(wildcard libsfshm/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_A := $(BUILD)/libsfshm.a
LIB_SO := $(BUILD)/libsfshm.so.0
LIB_PC := $(BUILD)/sfshm.pc

# The BPF metrics programs (bpf/): vmlinux.h from the running kernel's BTF,
# a CO-RE object, and the skeleton sfshmd loads them through.
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
BPF_DIR := $(BUILD)/bpf
BPF_SKEL := $(BPF_DIR)/sfm.skel.h
BPF_ARCH := $(patsubst x86_64,x86,$(patsubst aarch64,arm64,$(shell uname -m)))
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror \
	-I$(BPF_DIR) -Ibpf -idirafter /usr/include/$(shell gcc -dumpmachine)
BPF_LIBS := -lbpf -lelf -lz

# sfshmd's modules, also linked into the tests that exercise them.
SFD_SRCS := $(filter-out daemon/sfshmd.c,$(wildcard daemon/*.c))
SFD_OBJS := $(SFD_SRCS:%.c=$(BUILD)/%.o)
SFD_A := $(BUILD)/libsfd.a

# Every tools/X.c without an underscore is a program; tools/X_*.c are its
# parts; tools/common_*.c are parts of every program.
TOOLS := $(foreach f,$(wildcard tools/*.c),$(if $(findstring _,$(notdir $(f))),,$(basename $(notdir $(f)))))
TOOL_BINS := $(TOOLS:%=$(BUILD)/tools/%)
TOOL_COMMON := $(wildcard tools/common_*.c)

TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_HELPERS := $(filter-out tests/test_%,$(wildcard tests/t_*.c))

.PHONY: all lib daemon tools tests deps demo check check-unit bench-smoke abi-check check-tsan fuzz fuzz-check model \
	bench format format-check clean install
.DEFAULT_GOAL := all

SFSHMD := $(BUILD)/sfshmd

all: lib daemon tools tests

lib: $(LIB_A) $(LIB_SO) $(LIB_PC)
tools: $(TOOL_BINS)
daemon: $(SFSHMD)
tests: $(TEST_BINS)

$(BUILD)/libsfshm/%.o: libsfshm/%.c
	@mkdir -p $(dir $@)
	$(E) CC $<
	$(Q)$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	$(E) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS) libsfshm/libsfshm.map
	$(E) LD $@
	$(Q)$(CC) -shared -Wl,-soname,libsfshm.so.0 \
		-Wl,--version-script=libsfshm/libsfshm.map -o $@ \
		$(LIB_OBJS) $(LDLIBS_ALL)
	$(Q)ln -sf libsfshm.so.0 $(BUILD)/libsfshm.so

$(LIB_PC): libsfshm/sfshm.pc.in Makefile
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(BPF_DIR)/vmlinux.h:
	@mkdir -p $(dir $@)
	$(E) BTF $@
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp
	$(Q)mv $@.tmp $@

$(BPF_DIR)/%.bpf.o: bpf/%.bpf.c bpf/sfm.h $(BPF_DIR)/vmlinux.h
	$(E) BPFCC $@
	$(Q)clang $(BPF_CFLAGS) -c -o $@ $<

$(BPF_DIR)/%.skel.h: $(BPF_DIR)/%.bpf.o
	$(E) SKEL $@
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp
	$(Q)mv $@.tmp $@

.SECONDARY: $(BPF_DIR)/sfm.bpf.o

$(BUILD)/daemon/metrics.o: $(BPF_SKEL)

$(BUILD)/daemon/%.o: daemon/%.c
	@mkdir -p $(dir $@)
	$(E) CC $<
	$(Q)$(CC) $(BASE_CFLAGS) -Ilibsfshm -Idaemon -I$(BPF_DIR) -c -o $@ $<

$(SFD_A): $(SFD_OBJS)
	$(E) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(SFSHMD): daemon/sfshmd.c $(SFD_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(E) CC $@
	$(Q)$(CC) $(BASE_CFLAGS) -Ilibsfshm -Idaemon -o $@ $< $(SFD_A) $(LIB_A) \
		$(LDLIBS_ALL) -luring $(BPF_LIBS) -lpthread -lm

# Tools and tests link the static library: one binary, one sanitizer runtime.
.SECONDEXPANSION:
$(BUILD)/tools/%: tools/%.c $$(wildcard tools/$$*_*.c) $(TOOL_COMMON) \
		$(wildcard tools/*.h) $(LIB_A)
	@mkdir -p $(dir $@)
	$(E) CC $@
	$(Q)$(CC) $(BASE_CFLAGS) -Ilibsfshm -o $@ $(filter %.c,$^) $(LIB_A) \
		$(LDLIBS_ALL) $(BPF_LIBS) -lpthread -lm

# Integration tests run the daemon and tools next to them: build those too.
$(BUILD)/tests/test_%: tests/test_%.c $(TEST_HELPERS) $(LIB_A) $(SFD_A) \
		| $(SFSHMD) $(TOOL_BINS)
	@mkdir -p $(dir $@)
	$(E) CC $@
	$(Q)$(CC) $(BASE_CFLAGS) -Ilibsfshm -Idaemon -o $@ $< $(TEST_HELPERS) \
		$(SFD_A) $(LIB_A) $(LDLIBS_ALL) -luring $(BPF_LIBS) -lcmocka \
		-lpthread -lm

# ---- dependencies -----------------------------------------------------------

DEB_PKGS := build-essential pkg-config clang llvm libclang-rt-14-dev \
	libcmocka-dev spin clang-format liburing-dev libbpf-dev libelf-dev \
	zlib1g-dev bpftool systemtap-sdt-dev e2fsprogs mount

deps:
	$(Q)sh tools/install-deps.sh $(DEB_PKGS)

# ---- tests ------------------------------------------------------------------

FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 5

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory check-unit
	$(Q)$(MAKE) --no-print-directory bench-smoke
ifeq ($(SAN),)
	$(Q)$(MAKE) --no-print-directory fuzz-check
	$(Q)$(MAKE) --no-print-directory model
	$(Q)$(MAKE) --no-print-directory abi-check
endif

# The test programs alone (what `SAN=address,undefined` runs in CI).
check-unit: deps tests
	$(Q)sh tests/run-tests.sh $(BUILD)/tests

bench-smoke: tools daemon
	$(Q)$(BUILD)/tools/sfbench ring --quick >$(BUILD)/bench-smoke.txt 2>&1 || \
		{ cat $(BUILD)/bench-smoke.txt; exit 1; }
	$(Q)echo "  BENCH   sfbench ring --quick ok ($(BUILD)/bench-smoke.txt)"
	$(Q)$(BUILD)/tools/sfbench daemon --quick >$(BUILD)/bench-smoke-daemon.txt \
		2>&1 || { cat $(BUILD)/bench-smoke-daemon.txt; exit 1; }
	$(Q)echo "  BENCH   sfbench daemon --quick ok ($(BUILD)/bench-smoke-daemon.txt)"
	$(Q)$(BUILD)/tools/sfbench group --quick >$(BUILD)/bench-smoke-group.txt \
		2>&1 || { cat $(BUILD)/bench-smoke-group.txt; exit 1; }
	$(Q)echo "  BENCH   sfbench group --quick ok ($(BUILD)/bench-smoke-group.txt)"

# ThreadSanitizer: the concurrency tests only (cmocka programs named
# test_*_mt or listed in TSAN_TESTS), with threads instead of processes.
# test_client runs a ThreadSanitizer build of sfshmd (control thread and
# persister) under real client traffic.
TSAN_TESTS ?= test_ring_stress test_client
check-tsan: deps
	$(Q)$(MAKE) --no-print-directory SAN=thread build-thread/sfshmd \
		$(TSAN_TESTS:%=build-thread/tests/%)
	$(Q)SFSHM_TSAN=1 TSAN_OPTIONS=halt_on_error=1 \
		sh tests/run-tests.sh build-thread/tests $(TSAN_TESTS)

FUZZ_TARGETS := $(wildcard tests/fuzz_*.c)
FUZZ_BINS := $(FUZZ_TARGETS:tests/%.c=build-fuzz/%)
FUZZ_CFLAGS := -std=gnu11 -O1 -g $(WARN) -D_GNU_SOURCE -Iinclude -Ibpf -Ilibsfshm \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

build-fuzz/fuzz_%: tests/fuzz_%.c $(LIB_SRCS) $(SFD_SRCS) | build/bpf/sfm.skel.h
	@mkdir -p $(dir $@)
	$(E) FUZZCC $@
	$(Q)clang $(FUZZ_CFLAGS) -Idaemon -Ibuild/bpf -o $@ $^ -luring $(BPF_LIBS)

fuzz: deps $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do \
		mkdir -p build-fuzz/corpus-$${f##*/}; \
		echo "  FUZZ    $$f ($(FUZZ_SECONDS) s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		  build-fuzz/corpus-$${f##*/} tests/corpus/$${f##*/} \
		  2>build-fuzz/$${f##*/}.log || \
		  { tail -40 build-fuzz/$${f##*/}.log; exit 1; }; \
		grep -h 'stat::number_of_executed_units' \
		  build-fuzz/$${f##*/}.log; \
	done

fuzz-check:
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)

model:
	$(Q)bash tests/check-model.sh

abi-check: $(LIB_SO)
	$(Q)sh tests/abi-check.sh $(LIB_SO)

# The main job (README): a real daemon, a topic, 1M records there and back.
DEMO_RECORDS ?= 1000000
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh tools/demo.sh $(BUILD) $(DEMO_RECORDS)

bench: deps tools
	$(Q)$(BUILD)/tools/sfbench ring $(BENCH_ARGS)

# ---- housekeeping -----------------------------------------------------------

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || \
	find include libsfshm tools tests -name '*.[ch]')

format:
	$(Q)clang-format -i $(C_FILES)

format-check:
	$(Q)clang-format --dry-run -Werror $(C_FILES)

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/sfshm
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libsfshm.so.0 $(DESTDIR)$(PREFIX)/lib/libsfshm.so
	install -m 644 include/sfshm/*.h $(DESTDIR)$(PREFIX)/include/sfshm/
	install -m 644 $(LIB_PC) $(DESTDIR)$(PREFIX)/lib/pkgconfig/

clean:
	rm -rf build build-* 

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
