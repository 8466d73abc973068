## inject: LD_PRELOAD shims controlled by RUNDOWN_INJECT (see inject/README.md).

# The shim: one preloadable object with every feature, each off until
# RUNDOWN_INJECT turns it on.  Never instrumented by the sanitizers (it
# runs before their runtimes are initialised, inside their interceptors'
# REAL() calls and in threads they have not registered yet), and
# exporting only the interposed functions and rundown_inject_*.
pkglib_LTLIBRARIES += %reldir%/librundown-inject.la
%canon_reldir%_librundown_inject_la_SOURCES = \
	%reldir%/shim.c \
	%reldir%/shim.h \
	%reldir%/shim_alloc.c \
	%reldir%/shim_cpu.c \
	%reldir%/shim_pct.c \
	%reldir%/shim_sync.c \
	%reldir%/spec.c \
	%reldir%/spec.h \
	%reldir%/profiles.c \
	%reldir%/inject.h
%canon_reldir%_librundown_inject_la_CFLAGS = $(RD_STD_CFLAGS) $(RD_WARN_CFLAGS) \
	$(PTHREAD_CFLAGS) -fvisibility=hidden -fno-builtin -fno-omit-frame-pointer
%canon_reldir%_librundown_inject_la_LDFLAGS = -module -avoid-version -shared
%canon_reldir%_librundown_inject_la_LIBADD = $(PTHREAD_LIBS)

# The grammar, the profiles and the fail-nth driver, for the runner.
noinst_LTLIBRARIES += %reldir%/libinject-spec.la
%canon_reldir%_libinject_spec_la_SOURCES = \
	%reldir%/spec.c \
	%reldir%/spec.h \
	%reldir%/profiles.c \
	%reldir%/fail_nth.c \
	%reldir%/fail_nth.h \
	%reldir%/inject.h

rundowninclude_HEADERS += %reldir%/inject.h

bin_PROGRAMS += %reldir%/rundown-fail-nth
%canon_reldir%_rundown_fail_nth_SOURCES = %reldir%/rundown-fail-nth.c
%canon_reldir%_rundown_fail_nth_CPPFLAGS = $(AM_CPPFLAGS) -DPKGLIBDIR='"$(pkglibdir)"'
%canon_reldir%_rundown_fail_nth_LDADD = %reldir%/libinject-spec.la

bin_SCRIPTS += %reldir%/rundown-inject-env
CLEANFILES += %reldir%/rundown-inject-env
EXTRA_DIST += %reldir%/rundown-inject-env.in %reldir%/README.md
%reldir%/rundown-inject-env: %reldir%/rundown-inject-env.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	$(SED) -e 's|@pkglibdir[@]|$(pkglibdir)|g' $(srcdir)/%reldir%/rundown-inject-env.in >$@.tmp && \
	chmod +x $@.tmp && mv -f $@.tmp $@

# Tests: the parser (libcheck), then the preloaded shim, one script per
# behaviour, all driving one helper program.
check_PROGRAMS += %reldir%/tests/spec-test %reldir%/tests/inj-helper
%canon_reldir%_tests_spec_test_SOURCES = %reldir%/tests/spec-test.c
%canon_reldir%_tests_spec_test_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
%canon_reldir%_tests_spec_test_LDADD = %reldir%/libinject-spec.la $(CHECK_LIBS)
%canon_reldir%_tests_inj_helper_SOURCES = %reldir%/tests/inj-helper.c
%canon_reldir%_tests_inj_helper_LDADD = $(PTHREAD_LIBS)

INJECT_SHELL_TESTS = \
	%reldir%/tests/malformed.sh \
	%reldir%/tests/seed-log.sh \
	%reldir%/tests/ncpu.sh \
	%reldir%/tests/migrate.sh \
	%reldir%/tests/alloc-nth.sh \
	%reldir%/tests/futex.sh \
	%reldir%/tests/irql.sh \
	%reldir%/tests/sched.sh \
	%reldir%/tests/reproduce.sh \
	%reldir%/tests/fail-nth.sh
dist_check_SCRIPTS += $(INJECT_SHELL_TESTS)
EXTRA_DIST += %reldir%/tests/lib.sh
TESTS += %reldir%/tests/spec-test $(INJECT_SHELL_TESTS)
