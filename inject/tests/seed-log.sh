#!/bin/sh
# Same seed => same decision log for a single-threaded program; another
# seed => another log.
. "${top_srcdir:-.}/inject/tests/lib.sh"
# LeakSanitizer's exit-time scan calls sched_yield() a timing-dependent
# number of times: the sanitizer's decisions, not the program's.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
spec='sched=yield:p=0.3;sched=delay:p=0.2,max=2us;cpu=random;ncpu=5;futex=spurious:p=0.5'
for run in a b; do
	inj "seed=42;$spec;log=$tmp/$run.log" "$HELPER" decisions
	test "$rc" = 0 || fail "run $run: exit $rc"
done
inj "seed=43;$spec;log=$tmp/c.log" "$HELPER" decisions
test -s "$tmp/a.log" || fail "no decision log written"
lines=$(wc -l <"$tmp/a.log")
test "$lines" -ge 200 || fail "only $lines decisions logged"
cmp "$tmp/a.log" "$tmp/b.log" || { diff "$tmp/a.log" "$tmp/b.log" | head; fail "seed 42 twice: logs differ"; }
! cmp -s "$tmp/a.log" "$tmp/c.log" || fail "seeds 42 and 43 gave the same log"
awk 'NF < 4 || $2 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+$/ { bad = 1 } END { exit bad }' "$tmp/a.log" ||
	fail "malformed log line (want: site call# thread decision [value])"
echo "same seed, same $lines-line log; first lines:"
head -n 5 "$tmp/a.log"
