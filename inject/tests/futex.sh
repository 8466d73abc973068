#!/bin/sh
# futex=spurious: FUTEX_WAIT (10 s timeout, nobody wakes it) returns 0 at
# once; a condition wait returns 0 early with the mutex held.
# futex=eintr: FUTEX_WAIT fails with EINTR.
. "${top_srcdir:-.}/inject/tests/lib.sh"
inj 'futex=spurious:p=1' "$HELPER" futex
test "$(cat "$tmp/out")" = 'futex 0 0' || fail "FUTEX_WAIT did not return 0 at once"
inj 'futex=eintr:p=1' "$HELPER" futex
grep -q 'futex -1 Interrupted system call' "$tmp/out" || fail "no EINTR"
inj 'futex=spurious:p=1' "$HELPER" cond
test "$(cat "$tmp/out")" = 'cond 0 held=1' || fail "condition wait did not return early"
