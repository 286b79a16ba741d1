# uffdlab — build, test, run, bench.
# `make run` and `make test` are each the only command a fresh Debian machine
# needs: both depend on `deps`, which installs missing packages when root.

PKGS      := libcmocka-dev libjemalloc-dev uthash-dev graphviz libgraphviz-dev pkg-config
CC        ?= cc
BUILD     ?= build
SAN       ?=
# What the build needs whatever the user passes: `make CFLAGS=-O0` replaces
# only the optimisation and debug flags, never the language, warnings,
# include path or feature macros.
REQ_CFLAGS := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -I.
# link-time optimisation: the scheduler's and the model's small per-step
# calls (labels_on, touch, the strategy's choose) inline across files,
# worth ~10% of schedules/s; fat objects keep libuffdlab.a usable by any
# linker for handlers built out of the tree
CFLAGS    ?= -O2 -g -flto=auto -ffat-lto-objects
PKGCFG     = $(shell pkg-config --cflags cmocka libgvc 2>/dev/null)
ALL_CFLAGS = $(REQ_CFLAGS) $(CFLAGS) $(SAN) $(PKGCFG)
LDLIBS_GV  = $(shell pkg-config --libs libgvc 2>/dev/null)
LDLIBS_CM  = $(shell pkg-config --libs cmocka 2>/dev/null)
# jemalloc is the explorer's allocator; sanitizer builds keep the libc one.
LDLIBS_JE  = $(if $(SAN),,$(shell pkg-config --libs jemalloc 2>/dev/null))
LDLIBS     = -lpthread -lm

LIB_SRC   := $(wildcard handler/*.c sched/*.c model/*.c real/*.c scenarios/*.c viz/*.c)
LIB_ASM   := $(wildcard sched/*.S)
DRV_SRC   := $(wildcard *.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(LIB_ASM:%.S=$(BUILD)/%.o) $(DRV_SRC:%.c=$(BUILD)/%.o)
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard tests/bench_*.c)
BENCH_BIN := $(BENCH_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_HELPERS := $(filter-out tests/test_% tests/bench_%,$(wildcard tests/*.c))
TEST_HOBJ := $(TEST_HELPERS:%.c=$(BUILD)/%.o)
HDRS      := $(wildcard */*.h *.h)

.PHONY: all pkgcheck deps run test bench mutants asan tsan valgrind fuzz install uninstall check-graphviz clean
# test helpers and library objects are kept, not deleted as intermediates
.SECONDARY: $(TEST_HOBJ) $(LIB_OBJ)

all: pkgcheck $(BUILD)/uffdlab $(TEST_BIN) $(BENCH_BIN)

# pkg-config's answer is used silently above (the flags are empty before
# `make deps` installed the packages); here a missing one is said plainly.
pkgcheck:
	@pkg-config --exists cmocka libgvc jemalloc || { \
	  echo "build: pkg-config cannot find cmocka, libgvc or jemalloc: run make deps (as root)"; \
	  pkg-config --print-errors --exists cmocka libgvc jemalloc; exit 1; }

deps:
	@missing=""; for p in $(PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "deps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else echo "deps: missing Debian packages:$$missing (run as root: apt-get install$$missing)"; exit 1; fi; \
	fi

# header dependencies as the compiler sees them (-MMD -MP), not "every
# object depends on every header"
DEPFLAGS = -MMD -MP
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -c $< -o $@

$(BUILD)/libuffdlab.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/uffdlab: uffdlab.c $(BUILD)/libuffdlab.a
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -MF $@.d -DUFFDLAB_MAIN uffdlab.c $(BUILD)/libuffdlab.a -o $@ $(LDLIBS_GV) $(LDLIBS_JE) $(LDLIBS)

# tests keep libc's allocator (test_abandon reads its heap with mallinfo2);
# benchmarks measure the explorer as it ships, with jemalloc
$(BUILD)/tests/test_%: tests/test_%.c $(TEST_HOBJ) $(BUILD)/libuffdlab.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -MF $@.d $< $(TEST_HOBJ) $(BUILD)/libuffdlab.a -o $@ $(LDLIBS_CM) $(LDLIBS_GV) $(LDLIBS)

$(BUILD)/tests/bench_%: tests/bench_%.c $(TEST_HOBJ) $(BUILD)/libuffdlab.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -MF $@.d $< $(TEST_HOBJ) $(BUILD)/libuffdlab.a -o $@ $(LDLIBS_CM) $(LDLIBS_GV) $(LDLIBS_JE) $(LDLIBS)

-include $(LIB_OBJ:.o=.d) $(TEST_HOBJ:.o=.d) $(TEST_BIN:=.d) $(BENCH_BIN:=.d) $(BUILD)/uffdlab.d

# run needs only the program (the campaign is in it): built on every core,
# so that a fresh clone's make run stays under two minutes
run: deps
	@$(MAKE) --no-print-directory -j$$(nproc) $(BUILD)/uffdlab
	./$(BUILD)/uffdlab run

test: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) ./tests/run_tests.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@for b in $(BENCH_BIN); do ./$$b || exit 1; done
	@if [ "$${BENCH_MUTANTS:-0}" = 1 ]; then ./tests/mutants/run.sh; else \
	  echo "bench: mutation-score skipped (make mutants, or BENCH_MUTANTS=1 make bench: about 20 minutes)"; fi

# the mutation score of reference: tests/mutants/README.md (not part of make test)
mutants: deps
	@./tests/mutants/run.sh

# sanitizer builds check correctness, not speed: no link-time optimisation,
# which would redo the whole library at each of the test binaries' links
SAN_CFLAGS = -O2 -g
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="$(SAN_CFLAGS)" SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all
	@BUILD=build-asan ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./tests/run_tests.sh

tsan: deps
	@$(MAKE) --no-print-directory BUILD=build-tsan CFLAGS="$(SAN_CFLAGS)" SAN="-fsanitize=thread" all
	@BUILD=build-tsan UFFDLAB_TESTS=real ./tests/run_tests.sh

# The simulator under valgrind: its unit tests and a short exploration that
# finds (and abandons runs of) a bug.
# graphviz renders in a forked child whose own leaks are not ours
VG = valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite --child-silent-after-fork=yes
valgrind: deps
	@command -v valgrind >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq valgrind >/dev/null; } || { echo "valgrind: not installed"; exit 1; }
	@$(MAKE) --no-print-directory all
	@for t in test_sched test_trace test_oracle test_tracker test_scenario test_model_queue test_model_fill test_model_remove test_model_events test_model_kernel test_model_sys test_invariant test_handler_api test_abandon; do \
	  [ -x $(BUILD)/tests/$$t ] || continue; echo "valgrind $$t"; $(VG) $(BUILD)/tests/$$t >/dev/null 2>&1 || { echo "valgrind: $$t failed"; exit 1; }; done
	@$(VG) $(BUILD)/uffdlab explore scenarios/zoo/b01-stale-source.scn --variant stale-source --runs 200 --out $(BUILD)/vg >/dev/null; \
	  test $$? -eq 1 || { echo "valgrind: uffdlab explore failed"; exit 1; }
	@$(VG) $(BUILD)/uffdlab explore scenarios/parallel.scn --runs 200 --out $(BUILD)/vg >/dev/null || { echo "valgrind: uffdlab explore failed"; exit 1; }
	@echo "valgrind: clean"

# ---- fuzz targets (tests/fuzz/README.md): `make test` runs each over its
# stored corpus through tests/test_fuzz_corpus.c, built by cc, no libFuzzer;
# `make fuzz [FUZZ_SECONDS=N]` builds them with clang and libFuzzer (clang
# installed first if missing) into build/fuzz/ and fuzzes each N seconds.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := scenario trace viz sim
FUZZ_HDRS    := $(wildcard tests/fuzz/*.h)
FUZZ_ONE_OBJ := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/fuzz_%.o) $(BUILD)/tests/fuzz/corpus_main.o
# sched/coro.h detects clang's ASan (__has_feature) as well as gcc's
FUZZ_SAN     := -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer
.SECONDARY: $(FUZZ_ONE_OBJ)

$(BUILD)/tests/fuzz/fuzz_%.o: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFUZZ_ENTRY=fuzz_$*_one -c $< -o $@

$(BUILD)/tests/fuzz/corpus_main.o: $(FUZZ_HDRS)

$(BUILD)/tests/test_fuzz_corpus: tests/test_fuzz_corpus.c $(FUZZ_ONE_OBJ) $(BUILD)/libuffdlab.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< $(FUZZ_ONE_OBJ) $(BUILD)/libuffdlab.a -o $@ $(LDLIBS_CM) $(LDLIBS_GV) $(LDLIBS)

# one target over the files or directories on its command line, without
# libFuzzer (e.g. make BUILD=build-asan SAN=... build-asan/tests/fuzz/corpus_sim)
$(BUILD)/tests/fuzz/corpus_%: tests/fuzz/corpus_main.c $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/libuffdlab.a $(FUZZ_HDRS) $(HDRS)
	$(CC) $(ALL_CFLAGS) -DFUZZ_CORPUS_MAIN=fuzz_$*_one $< $(BUILD)/tests/fuzz/fuzz_$*.o $(BUILD)/libuffdlab.a -o $@ $(LDLIBS_GV) $(LDLIBS)

# a libFuzzer binary (CC=clang SAN=$(FUZZ_SAN), as `fuzz` builds it)
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(BUILD)/libuffdlab.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $< $(BUILD)/libuffdlab.a -o $@ $(LDLIBS_GV) $(LDLIBS)

fuzz: deps
	@./tests/fuzz/clang.sh
	@$(MAKE) --no-print-directory CC=clang BUILD=build/fuzz SAN="$(FUZZ_SAN)" CFLAGS="-O1 -g" \
	  $(FUZZ_TARGETS:%=build/fuzz/fuzz/fuzz_%)
	@./tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Is graphviz's second-render bug (the reason viz renders in a forked
# child) still there? Invalid reads under valgrind say yes.
check-graphviz: deps
	@mkdir -p $(BUILD)
	$(CC) -std=c11 -O1 -g tests/graphviz/second_render.c -o $(BUILD)/second_render $(PKGCFG) $(LDLIBS_GV)
	@command -v valgrind >/dev/null || { echo "check-graphviz: needs valgrind"; exit 1; }
	@if valgrind -q --error-exitcode=9 $(BUILD)/second_render >/dev/null 2>$(BUILD)/second_render.log; then \
	  echo "check-graphviz: a second render in one process is clean: viz could render in-process"; \
	else echo "check-graphviz: graphviz still reads freed memory on a second render ($$(grep -c 'Invalid read' $(BUILD)/second_render.log) invalid reads): keep the forked child"; fi

# Install: the binary, the scenario library it finds beside itself, man
# pages, bash completion, and for handlers built out of the tree the
# library, the interface headers and a pkg-config file.
PREFIX  ?= /usr/local
DESTDIR ?=
INC_HDRS := handler/handler.h handler/sys.h handler/uffd_compat.h uffdlab.h
INSTALLED = $(DESTDIR)$(PREFIX)
# order-only: an existing build is installed as it is (the test suite
# installs the sanitizer build without rebuilding it plain)
install: | $(BUILD)/uffdlab $(BUILD)/libuffdlab.a
	install -d $(INSTALLED)/bin $(INSTALLED)/lib/pkgconfig $(INSTALLED)/include/uffdlab \
	  $(INSTALLED)/share/uffdlab/scenarios/zoo $(INSTALLED)/share/man/man1 \
	  $(INSTALLED)/share/man/man5 $(INSTALLED)/share/bash-completion/completions
	install -m 755 $(BUILD)/uffdlab $(INSTALLED)/bin/uffdlab
	install -m 644 $(BUILD)/libuffdlab.a $(INSTALLED)/lib/libuffdlab.a
	install -m 644 $(INC_HDRS) $(INSTALLED)/include/uffdlab/
	install -m 644 scenarios/*.scn $(INSTALLED)/share/uffdlab/scenarios/
	install -m 644 scenarios/zoo/*.scn $(INSTALLED)/share/uffdlab/scenarios/zoo/
	install -m 644 docs/man/uffdlab.1 $(INSTALLED)/share/man/man1/
	install -m 644 docs/man/uffdlab-scenario.5 $(INSTALLED)/share/man/man5/
	install -m 644 docs/completion/uffdlab.bash $(INSTALLED)/share/bash-completion/completions/uffdlab
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBS@|$(LDLIBS_GV) $(LDLIBS)|' docs/uffdlab.pc.in \
	  > $(INSTALLED)/lib/pkgconfig/uffdlab.pc

uninstall:
	rm -f $(INSTALLED)/bin/uffdlab $(INSTALLED)/lib/libuffdlab.a \
	  $(INSTALLED)/lib/pkgconfig/uffdlab.pc $(INSTALLED)/share/man/man1/uffdlab.1 \
	  $(INSTALLED)/share/man/man5/uffdlab-scenario.5 \
	  $(INSTALLED)/share/bash-completion/completions/uffdlab
	rm -f $(addprefix $(INSTALLED)/include/uffdlab/,$(notdir $(INC_HDRS)))
	rm -rf $(INSTALLED)/share/uffdlab
	-rmdir $(INSTALLED)/include/uffdlab 2>/dev/null

clean:
	rm -rf build build-asan build-tsan
