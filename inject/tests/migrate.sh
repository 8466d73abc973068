#!/bin/sh
# cpu=migrate: two consecutive sched_getcpu() calls of a thread always
# differ, and the shim counts every call (the runner's bypass check).
. "${top_srcdir:-.}/inject/tests/lib.sh"
for n in 2 3 64 1; do
	inj "cpu=migrate;ncpu=$n" "$HELPER" migrate
	test "$rc" = 0 || fail "ncpu=$n: exit $rc"
done
inj "cpu=fixed:7" "$HELPER" migrate
grep -q 'same=1000 calls=2000' "$tmp/out" || fail "cpu=fixed:7 should never change"
