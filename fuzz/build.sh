#!/bin/bash -eu
# fuzz/build.sh - OSS-Fuzz / ClusterFuzzLite build script.
#
# Uses the engine's $CC $CFLAGS $LIB_FUZZING_ENGINE; writes to $OUT:
#   rundown_fuzz                 the target (reference linked in; at run time
#                                RUNDOWN_FUZZ_BACKEND=PATH.so selects a backend)
#   rundown_fuzz_seed_corpus.zip fuzz/corpus
#   rundown_fuzz.dict            fuzz/rundown.dict
#   rundown_fuzz.options         libFuzzer options (max_len, dict)
# Run from the source tree root ($SRC/rundown-cts); needs autoconf, automake,
# libtool, pkg-config and libcheck (for configure) in the builder image.
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
: "${OUT:?set OUT}" "${CC:=clang}" "${CFLAGS:=}" "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
WORK=${WORK:-$(mktemp -d)}

# Coverage: OSS-Fuzz puts -fsanitize=fuzzer-no-link (or its own flags) in
# CFLAGS; a bare libFuzzer build (CFLAGS empty) would link the engine to an
# uninstrumented target, which fuzzes blind.  Add it in that case only.
case "$CC $CFLAGS" in
*afl-*|*-fsanitize=fuzzer*|*-fsanitize-coverage*|*-fprofile-instr-generate*) ;;
*)
	case "$LIB_FUZZING_ENGINE" in
	*-fsanitize=fuzzer*) CFLAGS="$CFLAGS -fsanitize=fuzzer-no-link" ;;
	esac
	;;
esac

# config.h from configure, in a build directory of its own.
( cd "$SRC_DIR" && { test -x configure || autoreconf -fi; } )
mkdir -p "$WORK/build"
( cd "$WORK/build" && "$SRC_DIR/configure" -q CC="$CC" CFLAGS="$CFLAGS" )

srcs="fuzz/fuzz_target.c fuzz/ops.c fuzz/model.c
      conformance/backend.c conformance/backend_linked.c conformance/error.c
      impl/plain.c impl/cache_aware.c impl/cache_aware_alloc.c impl/cpu.c"
objs=
for s in $srcs; do
	o="$WORK/$(echo "$s" | tr / _).o"
	$CC $CFLAGS -std=gnu11 -fvisibility=hidden -I"$SRC_DIR/include" -I"$WORK/build" -I"$SRC_DIR" \
		-c "$SRC_DIR/$s" -o "$o"
	objs="$objs $o"
done
# Link with the C++ driver of the engine ($CXX if set, as OSS-Fuzz expects).
${CXX:-$CC} $CFLAGS $objs $LIB_FUZZING_ENGINE -ldl -lpthread -o "$OUT/rundown_fuzz"

# A libFuzzer target says how many instrumented modules it loaded: none
# means no coverage feedback, which is a build error here.
case "$LIB_FUZZING_ENGINE" in
*-fsanitize=fuzzer*)
	if ! "$OUT/rundown_fuzz" -runs=0 2>&1 | grep -q 'Loaded [1-9][0-9]* modules.*inline 8-bit counters\|Loaded [1-9][0-9]* modules.*guards'; then
		echo "build.sh: $OUT/rundown_fuzz has no coverage instrumentation (CFLAGS=$CFLAGS)" >&2
		exit 1
	fi
	;;
esac

( cd "$SRC_DIR/fuzz/corpus" && zip -q -j "$OUT/rundown_fuzz_seed_corpus.zip" ./* )
cp "$SRC_DIR/fuzz/rundown.dict" "$OUT/rundown_fuzz.dict"
cp "$SRC_DIR/fuzz/rundown-fuzz.options" "$OUT/rundown_fuzz.options"
