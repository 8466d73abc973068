## tests: unit tests of librundown (libcheck), run by `make check`.
## Each program has one job; see the comment at the top of each file.

tests_unit_programs = \
	%reldir%/unit/headers_test \
	%reldir%/unit/plain_test \
	%reldir%/unit/blocking_test \
	%reldir%/unit/cache_aware_test \
	%reldir%/unit/alloc_fail_test \
	%reldir%/unit/dlopen_test \
	%reldir%/unit/stress_test \
	%reldir%/unit/fast_path_test

check_PROGRAMS += $(tests_unit_programs)
TESTS += $(tests_unit_programs) %reldir%/unit/headers_cxx_test.sh
dist_check_SCRIPTS += %reldir%/unit/headers_cxx_test.sh

noinst_HEADERS += \
	%reldir%/unit/unit.h \
	%reldir%/unit/family.h \
	%reldir%/unit/waiter.h

tests_unit_cflags = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_ldadd = impl/librundown.la $(CHECK_LIBS) $(PTHREAD_LIBS)

%canon_reldir%_unit_plain_test_SOURCES = %reldir%/unit/plain_test.c
%canon_reldir%_unit_plain_test_CFLAGS = $(tests_unit_cflags)
%canon_reldir%_unit_plain_test_LDADD = $(tests_unit_ldadd)

%canon_reldir%_unit_blocking_test_SOURCES = %reldir%/unit/blocking_test.c
%canon_reldir%_unit_blocking_test_CFLAGS = $(tests_unit_cflags)
%canon_reldir%_unit_blocking_test_LDADD = $(tests_unit_ldadd)

%canon_reldir%_unit_cache_aware_test_SOURCES = %reldir%/unit/cache_aware_test.c
%canon_reldir%_unit_cache_aware_test_CFLAGS = $(tests_unit_cflags)
%canon_reldir%_unit_cache_aware_test_LDADD = $(tests_unit_ldadd)

%canon_reldir%_unit_stress_test_SOURCES = %reldir%/unit/stress_test.c
%canon_reldir%_unit_stress_test_CFLAGS = $(tests_unit_cflags)
%canon_reldir%_unit_stress_test_LDADD = $(tests_unit_ldadd)

# malloc_fail.c defines malloc and friends in the test executable.  It is
# built without $(RD_SAN_CFLAGS): the sanitizer runtimes call malloc while
# they initialise, before instrumented code can run.
check_LTLIBRARIES += %reldir%/unit/libmallocfail.la
%canon_reldir%_unit_libmallocfail_la_SOURCES = \
	%reldir%/unit/malloc_fail.c \
	%reldir%/unit/malloc_fail.h
%canon_reldir%_unit_libmallocfail_la_CFLAGS = $(RD_STD_CFLAGS) $(RD_WARN_CFLAGS) $(PTHREAD_CFLAGS)

%canon_reldir%_unit_alloc_fail_test_SOURCES = %reldir%/unit/alloc_fail_test.c
%canon_reldir%_unit_alloc_fail_test_CFLAGS = $(tests_unit_cflags)
%canon_reldir%_unit_alloc_fail_test_LDADD = %reldir%/unit/libmallocfail.la $(tests_unit_ldadd)

# Not linked with librundown: dlopens $(top_builddir)/impl/.libs/librundown.so.
%canon_reldir%_unit_dlopen_test_SOURCES = %reldir%/unit/dlopen_test.c
%canon_reldir%_unit_dlopen_test_CFLAGS = $(tests_unit_cflags)
%canon_reldir%_unit_dlopen_test_LDADD = $(CHECK_LIBS) $(PTHREAD_LIBS)
%canon_reldir%_unit_dlopen_test_DEPENDENCIES = impl/librundown.la

# One translation unit per public header, each compiled as strict C11.
%canon_reldir%_unit_headers_test_SOURCES = \
	%reldir%/unit/headers_test.c \
	%reldir%/unit/headers/types.c \
	%reldir%/unit/headers/routines.c \
	%reldir%/unit/headers/ex_rundown_ref.c \
	%reldir%/unit/headers/ex_rundown_ref_cache_aware.c \
	%reldir%/unit/headers/rundown.c
%canon_reldir%_unit_headers_test_CFLAGS = $(AM_CFLAGS) -std=c11
%canon_reldir%_unit_headers_test_LDADD = impl/librundown.la

# The rseq + membarrier fast path of the cache-aware family, its fallbacks
# (re-executed children), and a signal storm.  librundown linked
# statically: the test selects the path per object (hidden names).
%canon_reldir%_unit_fast_path_test_SOURCES = %reldir%/unit/fast_path_test.c
%canon_reldir%_unit_fast_path_test_CFLAGS = $(tests_unit_cflags)
%canon_reldir%_unit_fast_path_test_LDFLAGS = $(AM_LDFLAGS) -static
%canon_reldir%_unit_fast_path_test_LDADD = $(tests_unit_ldadd) -lrt
