#!/bin/sh
# tests/unit/headers_cxx_test.sh - every public header compiles alone as
# C++ too (they open `extern "C"` blocks, so they claim to).  configure
# does not look for a C++ compiler: $CXX, else c++; skipped without one.
cxx=${CXX:-c++}
command -v "$cxx" >/dev/null 2>&1 || { echo "SKIP: no C++ compiler ($cxx)"; exit 77; }
: "${top_srcdir:?run through make check}"
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
fails=0
for h in "$top_srcdir"/include/rundown/*.h; do
	name=rundown/$(basename "$h")
	printf '#include <%s>\n#include <%s>\n' "$name" "$name" >"$tmp/t.cc"
	if "$cxx" -std=c++11 -fsyntax-only -I"$top_srcdir/include" "$tmp/t.cc" >"$tmp/log" 2>&1; then
		echo "PASS: $name"
	else
		echo "FAIL: $name"; sed 's/^/  /' "$tmp/log"; fails=$((fails + 1))
	fi
done
[ "$fails" -eq 0 ]
