#!/bin/sh
# alloc=nth:2 fails exactly the 2nd eligible allocation (ENOMEM), every:2
# every second one, max caps the faults.  Armed windows make the count
# exact whatever libc allocates on its own before main.
. "${top_srcdir:-.}/inject/tests/lib.sh"
expect() {
	inj "$1" "$HELPER" alloc 6 armed
	skip_if_alloc_bypassed
	test "$rc" = 0 || fail "exit $rc"
	test "$(cat "$tmp/out")" = "$2" || fail "'$1': got '$(cat "$tmp/out")', want '$2'"
}
expect 'alloc=nth:2,scope=armed' 'ok ENOMEM ok ok ok ok'
expect 'alloc=nth:6,scope=armed' 'ok ok ok ok ok ENOMEM'
expect 'alloc=every:2,scope=armed' 'ok ENOMEM ok ENOMEM ok ENOMEM'
expect 'alloc=every:2,max=2,scope=armed' 'ok ENOMEM ok ENOMEM ok ok'
expect 'alloc=p:1,max=1,scope=armed' 'ENOMEM ok ok ok ok ok'
# Not armed: scope=armed never fails.
inj 'alloc=nth:1,scope=armed' "$HELPER" alloc 3
test "$(cat "$tmp/out")" = 'ok ok ok' || fail "unarmed calls failed: $(cat "$tmp/out")"
