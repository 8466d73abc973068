#!/bin/sh
# The fail-nth driver against librundown's ExAllocateCacheAwareRundownProtection:
# every allocation failed once, each time NULL or a working object, no leak.
. "${top_srcdir:-.}/inject/tests/lib.sh"
backend=$top_builddir/impl/.libs/librundown.so
test -f "$backend" || skip "no $backend"
inj '' "$top_builddir/inject/rundown-fail-nth" "$backend"
cat "$tmp/out"
if test "$rc" = 77; then skip "$(grep SKIP "$tmp/out")"; fi
test "$rc" = 0 || fail "exit $rc"
grep -q '^fail-nth: step 1: allocation failed .*Allocate returned NULL; live blocks 0: ok$' "$tmp/out" ||
	fail "step 1 did not fail the first allocation"
grep -q '^fail-nth: step [0-9]*: no fault .*working object; live blocks 0: ok$' "$tmp/out" ||
	fail "no final fault-free step"
grep -q '^fail-nth: PASS' "$tmp/out" || fail "no PASS"
