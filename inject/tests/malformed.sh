#!/bin/sh
# A malformed RUNDOWN_INJECT stops the program at start-up with exit 2 and a
# message naming the problem; never a silent no-op.
. "${top_srcdir:-.}/inject/tests/lib.sh"
check() {
	inj "$1" "$HELPER" noop
	test "$rc" = 2 || fail "'$1': exit $rc, expected 2"
	grep -q "^rundown-inject: RUNDOWN_INJECT: .*$2" "$tmp/err" ||
		fail "'$1': message does not name '$2'"
	echo "  $(cat "$tmp/err")"
}
check 'seed=banana' "'banana'"
check 'sched=delay:p=0.2,max=50' "'50' is not a duration"
check 'cpu=teleport' "unknown cpu mode 'teleport'"
check 'alloc=nth:0' 'n must be at least 1'
check 'ncpu=0' "'0' is not a processor count"
check 'futex=spurious:p=7' "'7' is not a probability"
check 'frobnicate=1' "unknown key 'frobnicate'"
check 'sched=yield;sched=yield' 'given twice'
check 'log=/nonexistent/dir/x.log' '/nonexistent/dir/x.log'
# Well-formed but empty: runs normally.
inj '' "$HELPER" noop
test "$rc" = 0 || fail "empty spec: exit $rc"
