# inject/tests/lib.sh - sourced by the shim tests.  Runs programs with the
# in-tree shim preloaded the way rundown-inject-env says (sanitizer runtime
# first), and collects their output.
set -e
: "${top_builddir:?run through make check}"
SHIM=$top_builddir/inject/.libs/librundown-inject.so
HELPER=$top_builddir/inject/tests/inj-helper
ENVSH=$top_builddir/inject/rundown-inject-env
tmp=$(mktemp -d "${TMPDIR:-/tmp}/inject-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
test -f "$SHIM" || { echo "SKIP: no shim at $SHIM"; exit 77; }

fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$tmp/out" 2>/dev/null; echo "--- stderr"; cat "$tmp/err" 2>/dev/null; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# inj SPEC PROGRAM ARGS...: status in $rc, output in $tmp/out and $tmp/err.
inj() {
	_spec=$1; shift
	set +e
	# timeout: a hang (e.g. PCT starving a spinner) fails instead of blocking make check
	RUNDOWN_INJECT=$_spec timeout -s KILL 120 sh "$ENVSH" --shim "$SHIM" --run "$@" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	set -e
	echo "RUNDOWN_INJECT='$_spec' $*: exit $rc: $(head -c 300 "$tmp/out" | tr '\n' ' ')"
}

# Skip when the program's malloc is not ours (a sanitizer's allocator).
skip_if_alloc_bypassed() {
	if grep -q 'malloc is bound to' "$tmp/err"; then
		skip "malloc is bound to the sanitizer's allocator: $(grep -o 'bound to [^,]*' "$tmp/err")"
	fi
}
