#!/bin/sh
# Scheduling perturbation keeps a correct program correct: yields and
# delays, chaos starvation, PCT (SCHED_FIFO on one CPU when permitted,
# emulated and said so when not); under strict PCT a thread that spins
# without an interposed call for a lower one does not hang the program
# (the watchdog demotes, and counts it).
. "${top_srcdir:-.}/inject/tests/lib.sh"
inj 'seed=1;sched=yield:p=0.3;sched=delay:p=0.3,max=20us' "$HELPER" threads
test "$rc" = 0 || fail "yield/delay: exit $rc"
grep -q 'counter=900' "$tmp/out" || fail "lost updates"
inj 'seed=1;sched=chaos:min=50us,max=400us' "$HELPER" threads
test "$rc" = 0 || fail "chaos: exit $rc"
inj 'seed=1;sched=pct:d=3,k=500' "$HELPER" threads
test "$rc" = 0 || fail "pct: exit $rc"
if grep -q 'pct_fifo=1' "$tmp/out"; then
	echo "pct ran with SCHED_FIFO on one CPU"
else
	grep -q 'sched=pct: cannot' "$tmp/err" || fail "pct emulated without saying so"
	echo "pct emulated: $(cat "$tmp/err")"
fi
inj 'seed=1;sched=pct:d=3,k=1000000' "$HELPER" spin
test "$rc" = 0 || fail "pct, a spinner waiting for a lower thread: exit $rc (hung?)"
if grep -q 'pct_fifo=1' "$tmp/out"; then
	grep -q 'pct_demotions=[1-9]' "$tmp/out" || fail "pct: no spinner above its setter in 20 rounds?"
fi
