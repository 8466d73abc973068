## bench: rundown-bench, cost of one Acquire+Release pair (make bench).
bin_PROGRAMS += %reldir%/rundown-bench
%canon_reldir%_rundown_bench_SOURCES = %reldir%/rundown_bench.c
# librundown linked statically: a dlopened backend whose routines call each
# other must not bind to our copies of the same names.
%canon_reldir%_rundown_bench_LDFLAGS = $(AM_LDFLAGS) -static
%canon_reldir%_rundown_bench_LDADD = conformance/libconform-backend.la \
	conformance/libconform-linked.la impl/librundown.la $(PTHREAD_LIBS)

BENCH_FLAGS = --threads 1,2 --reps 5 --seconds 0.5
PHONY_TARGETS += bench
bench: %reldir%/rundown-bench$(EXEEXT)
	./%reldir%/rundown-bench $(BENCH_FLAGS)
