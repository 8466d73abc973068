## conformance: the runner rundown-conform, its backend loader, the clause
## catalog and the checks that keep the catalog and the tests in step.
## (The tests themselves: conformance/tests/local.mk and its neighbours.)

# The backend loader, shared with fuzz/ and bench/: dlopen + dlsym of the 19
# routines, with file checks first (backend.h).  dlopen's library comes from
# configure's AC_SEARCH_LIBS([dlopen], [dl]) through $(LIBS).
noinst_LTLIBRARIES += %reldir%/libconform-backend.la
%canon_reldir%_libconform_backend_la_SOURCES = %reldir%/backend.c %reldir%/backend.h \
	%reldir%/error.c %reldir%/error.h

# rundown_backend_linked(): the backend linked into the program (librundown),
# for tools that can run without --backend.  Link this only with librundown.
noinst_LTLIBRARIES += %reldir%/libconform-linked.la
%canon_reldir%_libconform_linked_la_SOURCES = %reldir%/backend_linked.c %reldir%/backend.h
%canon_reldir%_libconform_linked_la_LIBADD = impl/librundown.la

# The runner.  Tests add themselves with
#   conformance_rundown_conform_SOURCES += conformance/tests/<file>.c
# (the conform_tests linker section lists them; no hand-kept list).
bin_PROGRAMS += %reldir%/rundown-conform
%canon_reldir%_rundown_conform_SOURCES = \
	%reldir%/runner.c \
	%reldir%/catalog.c %reldir%/catalog.h \
	%reldir%/context.c %reldir%/context.h \
	%reldir%/results.c %reldir%/results.h \
	%reldir%/inject_ctl.c %reldir%/inject_ctl.h \
	%reldir%/irql_wrap.c %reldir%/irql_wrap.h \
	%reldir%/torture.c %reldir%/torture.h \
	%reldir%/conform.h
%canon_reldir%_rundown_conform_CPPFLAGS = $(AM_CPPFLAGS) \
	-DRD_PKGDATADIR='"$(pkgdatadir)"' \
	-DRD_PKGLIBDIR='"$(pkglibdir)"' \
	-DRD_LIBDIR='"$(libdir)"' \
	-DRD_ABS_TOP_SRCDIR='"$(abs_top_srcdir)"' \
	-DRD_ABS_TOP_BUILDDIR='"$(abs_top_builddir)"' \
	-DRD_BUILD_SANITIZERS='"$(RD_SANITIZERS)"'
%canon_reldir%_rundown_conform_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
%canon_reldir%_rundown_conform_LDADD = %reldir%/libconform-backend.la inject/libinject-spec.la \
	$(CHECK_LIBS) -lm

# make check: the catalog and the tests agree; the reference passes; every
# inject profile in a short smoke (the clauses it targets) and a short
# torture run per family, against the reference; the mutants only an inject
# profile catches, with and without it.
TESTS += %reldir%/check-catalog %reldir%/smoke-reference %reldir%/smoke-inject %reldir%/smoke-torture \
	%reldir%/mutants-inject
dist_check_SCRIPTS += %reldir%/check-catalog %reldir%/smoke-reference %reldir%/smoke-inject \
	%reldir%/smoke-torture %reldir%/mutants-inject
dist_noinst_SCRIPTS += %reldir%/check-inject

# make check-inject (not part of check): every profile over the whole
# suite, then a torture run per profile.  INJECT_PROFILE=quick|full,
# TORTURE_DURATION=10s, BACKEND=/path/to/backend.so (default: librundown,
# as for conformance-report).
PHONY_TARGETS += check-inject
check-inject: all $(check_LTLIBRARIES)
	@top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	RD_SANITIZERS='$(RD_SANITIZERS)' \
	$(SHELL) $(srcdir)/%reldir%/check-inject \
		--profile '$(INJECT_PROFILE)' --duration '$(TORTURE_DURATION)' --backend '$(BACKEND)'
INJECT_PROFILE = quick
TORTURE_DURATION = 10s
EXTRA_DIST += %reldir%/CATALOG.md

clean_local += clean-local-conformance
PHONY_TARGETS += clean-local-conformance
clean-local-conformance:
	-rm -rf %reldir%/smoke-reference.out %reldir%/smoke-inject.out %reldir%/check-inject.out \
		%reldir%/smoke-torture.out %reldir%/mutants-inject.out

# The catalog, installed for rundown-conform's default --catalog.
dist_pkgdata_DATA += %reldir%/clauses.tsv
# LeakSanitizer suppressions of the dynamic linker's blocks seen through
# the inject shim's malloc (rundown-conform --inject, ASan builds).
dist_pkgdata_DATA += %reldir%/lsan-inject.supp
