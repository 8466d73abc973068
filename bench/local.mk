## bench: rundown-bench, cost of one Acquire+Release pair against peers,
## Wait latency and cost, memory (make bench; never part of make check
## except a one-second smoke test).
bin_PROGRAMS += %reldir%/rundown-bench
%canon_reldir%_rundown_bench_SOURCES = \
	%reldir%/bench.h \
	%reldir%/main.c \
	%reldir%/run.c \
	%reldir%/stats.c \
	%reldir%/variants_ref.c \
	%reldir%/variants_peers.c \
	%reldir%/wait.c
# librundown linked statically: a dlopened backend whose routines call each
# other must not bind to our copies of the same names.
%canon_reldir%_rundown_bench_LDFLAGS = $(AM_LDFLAGS) -static
%canon_reldir%_rundown_bench_CPPFLAGS = $(AM_CPPFLAGS) $(URCU_CFLAGS)
%canon_reldir%_rundown_bench_LDADD = conformance/libconform-backend.la \
	conformance/libconform-linked.la impl/librundown.la $(PTHREAD_LIBS)
if HAVE_CK
%canon_reldir%_rundown_bench_SOURCES += %reldir%/variants_ck.c
%canon_reldir%_rundown_bench_LDADD += -lck
endif
if HAVE_URCU
%canon_reldir%_rundown_bench_SOURCES += %reldir%/variants_urcu.c
%canon_reldir%_rundown_bench_LDADD += $(URCU_LIBS)
endif

# A one-second smoke test: every built variant runs and the TSV is well formed.
TESTS += %reldir%/smoke-test
dist_check_SCRIPTS += %reldir%/smoke-test
EXTRA_DIST += %reldir%/plot.gp %reldir%/results/README.md \
	%reldir%/results/latest.tsv %reldir%/results/latest.png %reldir%/results/latest.txt

# make bench: the table on stdout (pairs, memory, Wait latency and cost),
# the TSV in bench/results/HOST-DATE.tsv, and its plot next to it.
# Thread counts: 1, 2, 4, ... up to the online CPUs, and their number.
BENCH_FLAGS = --reps 5 --seconds 0.5
BENCH_OWNER_FLAGS = --memory --wait-latency --wait-cost
BENCH_TSV = %reldir%/results/$$(uname -n)-$$(date +%Y%m%d-%H%M%S).tsv
PHONY_TARGETS += bench bench-plot
bench: %reldir%/rundown-bench$(EXEEXT)
	@$(MKDIR_P) %reldir%/results
	@n=`getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1`; t=1; list=1; \
	while test `expr $$t \* 2` -le $$n; do t=`expr $$t \* 2`; list="$$list,$$t"; done; \
	test $$t -eq $$n || list="$$list,$$n"; \
	test $$n -ge 2 || list=1,2; \
	out=$(BENCH_TSV); \
	echo "./%reldir%/rundown-bench --threads $$list $(BENCH_FLAGS) --tsv $$out --pairs $(BENCH_OWNER_FLAGS)"; \
	./%reldir%/rundown-bench --threads $$list $(BENCH_FLAGS) --tsv $$out --pairs $(BENCH_OWNER_FLAGS) && \
	$(MAKE) $(AM_MAKEFLAGS) bench-plot BENCH_PLOT_TSV=$$out

# make bench-plot [BENCH_PLOT_TSV=file.tsv]: PNG of throughput against
# threads (default: the newest TSV in bench/results/), next to the TSV.
bench-plot:
	@tsv='$(BENCH_PLOT_TSV)'; \
	test -n "$$tsv" || tsv=`ls -t %reldir%/results/*.tsv 2>/dev/null | head -n 1`; \
	if test -z "$$tsv"; then echo "bench-plot: no TSV (run make bench first)"; exit 1; fi; \
	if test "x$(GNUPLOT)" = xno; then \
		echo "bench-plot: gnuplot not found at configure time; skipping the plot of $$tsv"; \
		exit 0; fi; \
	png=`echo "$$tsv" | $(SED) 's/\.tsv$$//'`.png; \
	$(GNUPLOT) -e "tsv='$$tsv'; png='$$png'" $(srcdir)/%reldir%/plot.gp && \
	echo "bench-plot: wrote $$png"
