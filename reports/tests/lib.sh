# reports/tests/lib.sh - sourced by the report tests.
#
# Sets report (the built rundown-report), py (the interpreter it runs with),
# data (the recorded inputs) and out (a fresh directory for this test in the
# build tree), and defines the helpers below.  Skips (77) when rundown-report
# was not built (configure found no python3).
#
# SPDX-License-Identifier: MIT

: "${top_srcdir:?run from make check}" "${top_builddir:?run from make check}"
me=$(basename "$0")
report=$top_builddir/reports/rundown-report
data=$top_srcdir/reports/tests/data
out=$top_builddir/reports/tests/$me.d
status=0

if ! test -x "$report"; then
	echo "SKIP: $report not built (configure found no python3)"
	exit 77
fi
py=$(sed -n '1s/^#!//p' "$report")
rm -rf "$out" && mkdir -p "$out" || exit 99

fail() {
	echo "FAIL: $*"
	status=1
}

# contains FILE STRING...: each STRING occurs literally in FILE.
contains() {
	f=$1
	shift
	for s in "$@"; do
		grep -qF -- "$s" "$f" || fail "$(basename "$f") lacks: $s"
	done
}

# render DIR [extra args]: the standard render of the recorded results.
render() {
	d=$1
	shift
	"$report" --catalog "$data/clauses.tsv" --mutants "$data/mutants.tsv" \
		--title "rundown-report test" --out "$d" "$@" \
		"$data/ref-plain" "$data/broken-asan" "$data/partial.tsv"
}
