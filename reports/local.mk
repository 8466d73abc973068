## reports: rundown-report, the report generator (Python 3, standard
## library only), its JUnit schema, its tests, and the example CI
## workflows for backend projects (examples/ci).

if HAVE_PYTHON3
bin_SCRIPTS += %reldir%/rundown-report
endif
dist_pkgdata_DATA += %reldir%/junit.xsd
CLEANFILES += %reldir%/rundown-report
EXTRA_DIST += %reldir%/rundown-report.in %reldir%/README.md

# Not in AC_CONFIG_FILES: substituted here so that $(pkgdatadir) is
# expanded the way make install sees it.
%reldir%/rundown-report: %reldir%/rundown-report.in Makefile
	$(AM_V_GEN)$(MKDIR_P) %reldir% && rm -f $@ $@.tmp && \
	sed -e 's|@PYTHON3[@]|$(PYTHON3)|g' -e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
		$(srcdir)/%reldir%/rundown-report.in >$@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

# Tests: recorded results in %reldir%/tests/data, rendered and checked.
# Each skips (77) when the tool it needs (python3, xmllint, chromium,
# a YAML parser) is absent.
rd_report_tests = \
	%reldir%/tests/render-test \
	%reldir%/tests/bad-input-test \
	%reldir%/tests/junit-schema-test \
	%reldir%/tests/browser-test \
	%reldir%/tests/ci-yaml-test
dist_check_SCRIPTS += $(rd_report_tests)
TESTS += $(rd_report_tests)
EXTRA_DIST += \
	%reldir%/tests/lib.sh \
	%reldir%/tests/data/clauses.tsv \
	%reldir%/tests/data/mutants.tsv \
	%reldir%/tests/data/ref-plain/results.tsv \
	%reldir%/tests/data/broken-asan/results.tsv \
	%reldir%/tests/data/partial.tsv \
	%reldir%/tests/data/bad-outcome.tsv \
	%reldir%/tests/data/bad-fields.tsv \
	examples/ci/github-actions.yml \
	examples/ci/gitlab-ci.yml

clean_local += clean-local-reports
PHONY_TARGETS += clean-local-reports
clean-local-reports:
	-rm -rf %reldir%/tests/*.d %reldir%/tests/*.png
