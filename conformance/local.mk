## conformance: the runner rundown-conform, its backend loader, the clause
## catalog and the checks that keep the catalog and the tests in step.
## (The tests themselves: conformance/tests/local.mk and its neighbours.)

# The backend loader, shared with fuzz/ and bench/: dlopen + dlsym of the 19
# routines, with file checks first (backend.h).  dlopen's library comes from
# configure's AC_SEARCH_LIBS([dlopen], [dl]) through $(LIBS).
noinst_LTLIBRARIES += %reldir%/libconform-backend.la
%canon_reldir%_libconform_backend_la_SOURCES = %reldir%/backend.c %reldir%/backend.h

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
	%reldir%/conform.h
%canon_reldir%_rundown_conform_CPPFLAGS = $(AM_CPPFLAGS) \
	-DRD_PKGDATADIR='"$(pkgdatadir)"' \
	-DRD_ABS_TOP_SRCDIR='"$(abs_top_srcdir)"' \
	-DRD_ABS_TOP_BUILDDIR='"$(abs_top_builddir)"' \
	-DRD_BUILD_SANITIZERS='"$(RD_SANITIZERS)"'
%canon_reldir%_rundown_conform_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
%canon_reldir%_rundown_conform_LDADD = %reldir%/libconform-backend.la $(CHECK_LIBS) -lm

# make check: the catalog and the tests agree; the reference passes.
TESTS += %reldir%/check-catalog %reldir%/smoke-reference
dist_check_SCRIPTS += %reldir%/check-catalog %reldir%/smoke-reference
EXTRA_DIST += %reldir%/CATALOG.md

clean_local += clean-local-conformance
PHONY_TARGETS += clean-local-conformance
clean-local-conformance:
	-rm -rf %reldir%/smoke-reference.out

# The catalog, installed for rundown-conform's default --catalog.
dist_pkgdata_DATA += %reldir%/clauses.tsv
