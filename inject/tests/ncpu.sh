#!/bin/sh
# ncpu=N makes sysconf(_SC_NPROCESSORS_CONF/ONLN), get_nprocs() and
# get_nprocs_conf() report N.
. "${top_srcdir:-.}/inject/tests/lib.sh"
for n in 3 1 1024; do
	inj "ncpu=$n" "$HELPER" ncpu
	test "$rc" = 0 || fail "exit $rc"
	test "$(cat "$tmp/out")" = "$n $n $n $n" || fail "ncpu=$n: reported $(cat "$tmp/out")"
done
