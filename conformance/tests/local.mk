## conformance/tests: the conformance tests, linked into rundown-conform.
## Each test file adds itself here (or in its own fragment):
##	conformance_rundown_conform_SOURCES += %reldir%/<file>.c

# Runner smoke tests (development of the runner; to be absorbed by the
# per-clause tests).
conformance_rundown_conform_SOURCES += %reldir%/smoke.c
