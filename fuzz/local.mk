## fuzz: the sequential model, the deterministic executor, rundown-fuzz (no
## engine needed), the libFuzzer/AFL++ target, and the seed corpus.

%canon_reldir%_core_sources = \
	%reldir%/model.c %reldir%/model.h \
	%reldir%/ops.c %reldir%/ops.h

bin_PROGRAMS += %reldir%/rundown-fuzz
%canon_reldir%_rundown_fuzz_SOURCES = $(%canon_reldir%_core_sources) \
	%reldir%/rundown_fuzz.c \
	%reldir%/seeds.c %reldir%/seeds.h \
	%reldir%/lincheck.c %reldir%/lincheck.h
%canon_reldir%_rundown_fuzz_LDADD = conformance/libconform-backend.la \
	conformance/libconform-linked.la $(PTHREAD_LIBS)
# -static: librundown goes into the executable, not as a shared library, so
# its Ex* names are not in the global symbol scope: a dlopen-ed backend that
# calls its own exported routines (Allocate -> Initialize) must bind to its
# own, not be interposed by the reference's.
%canon_reldir%_rundown_fuzz_LDFLAGS = $(AM_LDFLAGS) -static

# Writes the seeds of seeds.c as files: make fuzz-corpus (then commit).
noinst_PROGRAMS += %reldir%/gen-corpus
%canon_reldir%_gen_corpus_SOURCES = %reldir%/gen_corpus.c %reldir%/seeds.c %reldir%/seeds.h

# make check: the whole corpus replays against the reference; short
# campaigns (sequential and concurrent) find nothing on it; a mutant, when
# built, is found and its reproducer replays.
TESTS += %reldir%/replay-corpus.test %reldir%/campaign-reference.test \
	%reldir%/finds-mutant.test
dist_check_SCRIPTS += %reldir%/replay-corpus.test %reldir%/campaign-reference.test \
	%reldir%/finds-mutant.test
EXTRA_DIST += %reldir%/corpus %reldir%/rundown.dict %reldir%/rundown-fuzz.options \
	%reldir%/build.sh %reldir%/fuzz_target.c %reldir%/README.md

PHONY_TARGETS += fuzz fuzz-afl fuzz-corpus clean-local-fuzz
clean_local += clean-local-fuzz

fuzz-corpus: %reldir%/gen-corpus$(EXEEXT)
	%reldir%/gen-corpus$(EXEEXT) $(srcdir)/%reldir%/corpus

# ---- make fuzz: libFuzzer with ASan+UBSan, the reference linked in ----
FUZZ_SECONDS = 60
# Up to about 120 ops: an input runs at most two blocking Waits
# (RD_MAX_BLOCKING_WAITS in ops.c), so longer ones mostly add Acquire/
# Release pairs, and cost a quarter of the speed; rundown-fuzz keeps 256.
FUZZ_MAX_LEN = 128
FUZZ_FLAGS =
# ASan's quarantine (freed blocks kept poisoned to catch a use after free)
# at 16 MB instead of 256: still the last tens of thousands of blocks, some
# seconds of fuzzing, while an input frees its objects before it ends; the
# default kept handing out fresh pages (page faults, cache misses) for the
# whole run.  Allocation and free stacks of 8 frames instead of 30 (the
# stack of the error itself stays whole): 8 reach from the allocator up to
# LLVMFuzzerTestOneInput; ASan unwinds them at every malloc and free.  An
# ASAN_OPTIONS of the environment comes after, so it wins.
FUZZ_ASAN_OPTIONS = quarantine_size_mb=16:malloc_context_size=8
%canon_reldir%_engine_sources = \
	$(srcdir)/%reldir%/fuzz_target.c $(srcdir)/%reldir%/ops.c $(srcdir)/%reldir%/model.c \
	$(srcdir)/conformance/backend.c $(srcdir)/conformance/backend_linked.c \
	$(srcdir)/conformance/error.c \
	$(srcdir)/impl/plain.c $(srcdir)/impl/cache_aware.c \
	$(srcdir)/impl/cache_aware_alloc.c $(srcdir)/impl/cpu.c
%canon_reldir%_engine_cppflags = -I$(top_srcdir)/include -I$(top_builddir) -I$(top_srcdir)
%canon_reldir%_engine_san = -fsanitize=address,undefined -fno-sanitize-recover=undefined
# -O2, as librundown itself is built: against -O1, 8 % more execs/s
# (medians of six paired runs, fuzz/README.md), and the code fuzzed is
# the code shipped.
%canon_reldir%_engine_cflags = -g -O2 -std=gnu11 -fvisibility=hidden $(%canon_reldir%_engine_san)
# What each part of the target is compiled with (measured: fuzz/README.md):
#  - the reference (impl/): everything, coverage with comparison tracing,
#    ASan and UBSan: it is what is fuzzed when no backend is given.
#  - the model (model.c): coverage counters (the model states an input
#    reaches: the only feedback when the backend is a .so without
#    coverage), no comparison tracing (its comparisons are on model state
#    but for a few on Count ranges, which plain mutations reach).
#  - the executor (ops.c): no coverage.  What it reaches beyond the
#    model's states is decoding, dispatch and the scheduler (whether a
#    handshake spun, whether the Wait was seen asleep at once): features
#    that made inputs new for the executor's path alone (60 s from the
#    seeds: 1 241 features and 341 inputs with them, 840 and 286 without).
#    Without them the same edges of impl/ and model.c were reached (1.5M
#    execs from the seeds) at about a quarter more execs/s.
#  - both, by default, without ASan/UBSan (FUZZ_HARNESS_CFLAGS): they are
#    the checker, not what is checked; make check-sanitizers runs them
#    under ASan+UBSan (rundown-fuzz), and ASan's allocator and interceptors
#    still apply to every call (the exactly sized caller buffer of a
#    Size+Initialize object keeps its redzone).  Instrumenting them made an
#    input of the grown corpus cost a third more.
#    `make fuzz FUZZ_HARNESS_CFLAGS=` instruments them again.
#  - the glue (fuzz_target.c, the backend loader): ASan+UBSan, no coverage.
FUZZ_HARNESS_CFLAGS = -fno-sanitize=address,undefined
%canon_reldir%_engine_model_cflags = -fsanitize=fuzzer-no-link \
	-fno-sanitize-coverage=trace-cmp $(FUZZ_HARNESS_CFLAGS)
%canon_reldir%_engine_glue = \
	$(srcdir)/%reldir%/fuzz_target.c $(srcdir)/conformance/backend.c \
	$(srcdir)/conformance/backend_linked.c $(srcdir)/conformance/error.c
%canon_reldir%_engine_objs = %reldir%/libfuzzer-ops.o %reldir%/libfuzzer-model.o \
	%reldir%/libfuzzer-fuzz_target.o %reldir%/libfuzzer-backend.o \
	%reldir%/libfuzzer-backend_linked.o %reldir%/libfuzzer-error.o
%canon_reldir%_engine_impl = \
	$(srcdir)/impl/plain.c $(srcdir)/impl/cache_aware.c \
	$(srcdir)/impl/cache_aware_alloc.c $(srcdir)/impl/cpu.c

# Makefile: the flags above live in it (a change rebuilds the target).
%reldir%/rundown-fuzz-libfuzzer: $(%canon_reldir%_engine_sources) Makefile
	@if test "x$(CLANG)" = xno; then \
	  echo "make fuzz: clang not found (configure looked for clang, clang-14);" \
	       "install clang and libclang-rt-dev, then rerun configure" >&2; exit 1; fi
	@$(MKDIR_P) %reldir%
	$(AM_V_CC)$(CLANG) $(%canon_reldir%_engine_cflags) $(FUZZ_HARNESS_CFLAGS) \
	  $(%canon_reldir%_engine_cppflags) -c $(srcdir)/%reldir%/ops.c -o %reldir%/libfuzzer-ops.o
	$(AM_V_CC)$(CLANG) $(%canon_reldir%_engine_cflags) $(%canon_reldir%_engine_model_cflags) \
	  $(%canon_reldir%_engine_cppflags) -c $(srcdir)/%reldir%/model.c -o %reldir%/libfuzzer-model.o
	$(AM_V_CC)for f in $(%canon_reldir%_engine_glue); do \
	  $(CLANG) $(%canon_reldir%_engine_cflags) $(%canon_reldir%_engine_cppflags) -c $$f \
	    -o %reldir%/libfuzzer-`basename $$f .c`.o || exit 1; done
	$(AM_V_CCLD)$(CLANG) $(%canon_reldir%_engine_cflags) -fsanitize=fuzzer \
	  $(%canon_reldir%_engine_cppflags) $(%canon_reldir%_engine_impl) \
	  $(%canon_reldir%_engine_objs) \
	  -o $@ $(LIBS) $(PTHREAD_LIBS) -lpthread

fuzz: %reldir%/rundown-fuzz-libfuzzer
	@$(MKDIR_P) %reldir%/corpus-work %reldir%/artifacts
	@echo "make fuzz: $(FUZZ_SECONDS) s of libFuzzer against $${RUNDOWN_FUZZ_BACKEND:-the linked reference}"
	@ASAN_OPTIONS="$(FUZZ_ASAN_OPTIONS)$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}" \
	  %reldir%/rundown-fuzz-libfuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
	  -dict=$(srcdir)/%reldir%/rundown.dict -artifact_prefix=%reldir%/artifacts/ \
	  -print_final_stats=1 $(FUZZ_FLAGS) %reldir%/corpus-work $(srcdir)/%reldir%/corpus \
	  >%reldir%/fuzz.log 2>&1; status=$$?; \
	  grep -E '^(#[0-9]+ +(INITED|DONE)|stat::|==[0-9]+==|SUMMARY|rundown|first divergence|  clause)' \
	    %reldir%/fuzz.log; \
	  execs=`sed -n 's/^stat::number_of_executed_units: *//p' %reldir%/fuzz.log`; \
	  rate=`sed -n 's/^stat::average_exec_per_sec: *//p' %reldir%/fuzz.log`; \
	  echo "make fuzz: $$execs execs, $$rate execs/s (log: %reldir%/fuzz.log)"; \
	  if test $$status -ne 0; then echo "make fuzz: crash inputs in %reldir%/artifacts/;" \
	    "replay with: fuzz/rundown-fuzz --replay FILE" >&2; fi; \
	  exit $$status

# ---- make fuzz-afl: AFL++ (afl-clang-fast with its libFuzzer driver) ----
%reldir%/rundown-fuzz-afl: $(%canon_reldir%_engine_sources) Makefile
	@if test "x$(AFL_CLANG_FAST)" = xno; then \
	  echo "make fuzz-afl: afl-clang-fast not found; install AFL++ and rerun configure" >&2; \
	  exit 1; fi
	@$(MKDIR_P) %reldir%
	$(AM_V_CCLD)$(AFL_CLANG_FAST) -g -O2 -std=gnu11 -fvisibility=hidden -fsanitize=fuzzer \
	  $(%canon_reldir%_engine_cppflags) $(%canon_reldir%_engine_sources) -o $@ \
	  $(LIBS) $(PTHREAD_LIBS) -lpthread

fuzz-afl: %reldir%/rundown-fuzz-afl
	@if command -v afl-fuzz >/dev/null 2>&1; then \
	  AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
	  afl-fuzz -V $(FUZZ_SECONDS) -i $(srcdir)/%reldir%/corpus -o %reldir%/afl-out \
	    -x $(srcdir)/%reldir%/rundown.dict -- %reldir%/rundown-fuzz-afl; \
	else echo "make fuzz-afl: built %reldir%/rundown-fuzz-afl; afl-fuzz not found, not run"; fi

clean-local-fuzz:
	-rm -rf %reldir%/rundown-fuzz-libfuzzer $(%canon_reldir%_engine_objs) \
	  %reldir%/rundown-fuzz-afl %reldir%/corpus-work \
	  %reldir%/artifacts %reldir%/afl-out %reldir%/fuzz.log %reldir%/test-out
