#!/bin/sh
# irql: a mutex lock between rundown_inject_irql_enter/leave is reported
# (call, routine, backtrace); trylock/unlock are not; malloc is a warning.
# irql=record counts and goes on, irql=abort aborts.
. "${top_srcdir:-.}/inject/tests/lib.sh"
inj 'irql=record' "$HELPER" irql
test "$rc" = 0 || fail "record: exit $rc"
grep -q 'violations=1 alloc_warnings=1' "$tmp/out" || fail "wrong counts"
grep -q '^rundown-inject: IRQL violation: pthread_mutex_lock inside ExAcquireRundownProtection at DISPATCH_LEVEL$' "$tmp/err" ||
	fail "no violation message"
grep -q 'IRQL warning: malloc (allocation) inside ExAcquireRundownProtection' "$tmp/err" ||
	fail "no allocation warning"
grep -q 'inj-helper' "$tmp/err" || fail "no backtrace"
inj 'irql=abort' "$HELPER" irql
test "$rc" -ne 0 -a "$rc" -ne 2 || fail "abort: exit $rc"
grep -q "reproduce with RUNDOWN_INJECT='seed=[0-9]*;irql=abort'" "$tmp/err" || fail "no reproduce line"
# Without irql= nothing is checked.
inj 'cpu=random' "$HELPER" irql
grep -q 'violations=0' "$tmp/out" || fail "checked without irql="
