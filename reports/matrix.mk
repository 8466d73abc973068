## The conformance matrix against the reference, rendered into
## reports/out/{index.html,junit.xml,summary.md,results.json}.
##
##   make conformance-report             plain build: default profile, the
##                                       main inject profiles, the mutants
##   make conformance-report MATRIX=full adds every inject profile, and the
##                                       ASan+UBSan and TSan builds with the
##                                       default and every inject profile
##   make conformance-report BACKEND=/path/to/backend.so
##                                       the same matrix for your backend
##                                       (the mutant score is the suite's
##                                       own and always shown)

REPORT_OUT = reports/out
MATRIX = default
BACKEND = $(abs_top_builddir)/impl/.libs/librundown.so
CONFORM_PROFILE = quick
# Inject profiles of the matrix (rundown-conform --inject; inject/README.md):
# the default matrix runs the ones that each target different clauses and
# run in seconds; MATRIX=full adds the rest.
MATRIX_INJECT_DEFAULT = migrate alloc-fail spurious-wakeup irql
MATRIX_INJECT_FULL = sched-light sched-heavy pct chaos hotplug ncpu-1 ncpu-3 ncpu-1024

rd_conform = $(abs_top_builddir)/conformance/rundown-conform$(EXEEXT)
rd_report = $(abs_top_builddir)/reports/rundown-report

PHONY_TARGETS += conformance-report
conformance-report: all $(check_LTLIBRARIES)
	@set -u; out='$(REPORT_OUT)'; rm -rf "$$out"; $(MKDIR_P) "$$out/runs"; status=0; \
	run() { name=$$1; shift; \
		echo "=== conformance: $$name"; \
		$(rd_conform) --backend '$(BACKEND)' --profile $(CONFORM_PROFILE) \
			--catalog '$(abs_top_srcdir)/conformance/clauses.tsv' \
			--out "$$out/runs/$$name" "$$@"; rc=$$?; \
		if test $$rc -eq 2; then exit 2; fi; \
		if test $$rc -ne 0; then status=1; fi; }; \
	run plain-default || exit 2; \
	for p in $(MATRIX_INJECT_DEFAULT); do run "plain-$$p" --inject "$$p" || exit 2; done; \
	if test '$(MATRIX)' = full; then \
		for p in $(MATRIX_INJECT_FULL); do run "plain-$$p" --inject "$$p" || exit 2; done; \
		test -x '$(SANITIZER_SRC)/configure' || $(MAKE) $(AM_MAKEFLAGS) sanitizer-src || exit 2; \
		for b in $(SANITIZER_BUILDS); do \
			bname=$${b%%:*}; san=$${b#*:}; dir='$(abs_top_builddir)'/build-$$bname; \
			$(MKDIR_P) "$$dir"; \
			( cd "$$dir" && { test -f Makefile || '$(SANITIZER_SRC)'/configure -q \
				--enable-sanitizers=$$san CC='$(CC)'; } && $(MAKE) $(AM_MAKEFLAGS) all ) || exit 2; \
			sb=$$dir/impl/.libs/librundown.so; \
			test '$(BACKEND)' = '$(abs_top_builddir)/impl/.libs/librundown.so' || sb='$(BACKEND)'; \
			for p in default $(MATRIX_INJECT_DEFAULT) $(MATRIX_INJECT_FULL); do \
				inj=; test $$p = default || inj="--inject $$p"; \
				echo "=== conformance: $$bname-$$p"; \
				"$$dir/conformance/rundown-conform$(EXEEXT)" --backend "$$sb" --profile $(CONFORM_PROFILE) \
					--catalog '$(abs_top_srcdir)/conformance/clauses.tsv' $$inj \
					--out "$$out/runs/$$bname-$$p"; rc=$$?; \
				test $$rc -eq 2 && exit 2; test $$rc -ne 0 && status=1; \
			done; \
		done; \
	fi; \
	mut=; \
	if test -x '$(abs_top_srcdir)/conformance/mutants/run-mutants'; then \
		echo "=== suite strength: in-tree mutants"; \
		'$(abs_top_srcdir)/conformance/mutants/run-mutants' --runner $(rd_conform) \
			--out "$$out/mutants" >"$$out/mutants.log" 2>&1; \
		tail -n 3 "$$out/mutants.log"; \
		'$(abs_top_srcdir)/conformance/mutants/run-mutants' --runner $(rd_conform) \
			--only inject --out "$$out/mutants-inject" >"$$out/mutants-inject.log" 2>&1; \
		tail -n 2 "$$out/mutants-inject.log"; \
		if test -f "$$out/mutants/mutants.tsv"; then \
			mut="--mutants $$out/mutants.tsv"; \
			{ awk -F'\t' '$$5 != "skipped"' "$$out/mutants/mutants.tsv"; \
			  test -f "$$out/mutants-inject/mutants.tsv" && \
				awk -F'\t' '!/^#/ && $$1 != "mutant"' "$$out/mutants-inject/mutants.tsv"; \
			} >"$$out/mutants.tsv"; \
		fi; \
	fi; \
	$(rd_report) --catalog '$(abs_top_srcdir)/conformance/clauses.tsv' $$mut \
		--title 'rundown-cts conformance: $(notdir $(BACKEND))' --out "$$out" "$$out/runs" || exit 2; \
	echo "=== reports written: $$out/index.html $$out/junit.xml $$out/summary.md $$out/results.json"; \
	exit $$status
