#!/bin/sh
# A run that exits with a failure status prints the spec that reproduces
# its decisions, seed included (drawn at start-up when not given).
. "${top_srcdir:-.}/inject/tests/lib.sh"
inj 'cpu=migrate' "$HELPER" exit 1
test "$rc" = 1 || fail "exit $rc"
line=$(grep "^rundown-inject: exit status 1; reproduce with RUNDOWN_INJECT='seed=[0-9]*;cpu=migrate'$" "$tmp/err") ||
	fail "no reproduce line"
echo "$line"
inj 'cpu=migrate' "$HELPER" exit 0
test ! -s "$tmp/err" || fail "printed on success"
inj 'cpu=migrate' "$HELPER" exit 77
test ! -s "$tmp/err" || fail "printed on skip"
