# RD_CHECK_CFLAGS(VARIABLE, FLAGS)
# ---------------------------------
# Append to VARIABLE each flag of FLAGS that $CC accepts (with -Werror, so
# a flag that only warns is not taken).
AC_DEFUN([RD_CHECK_CFLAGS], [
	for rd_flag in $2; do
		AS_VAR_PUSHDEF([rd_cache], [rd_cv_cflag_$rd_flag])
		AC_CACHE_CHECK([whether $CC accepts $rd_flag], [rd_cache], [
			rd_save_CFLAGS=$CFLAGS
			CFLAGS="$CFLAGS -Werror $rd_flag"
			AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
				[AS_VAR_SET([rd_cache], [yes])], [AS_VAR_SET([rd_cache], [no])])
			CFLAGS=$rd_save_CFLAGS])
		AS_VAR_IF([rd_cache], [yes], [$1="$$1 $rd_flag"])
		AS_VAR_POPDEF([rd_cache])
	done
])

# RD_PTHREAD
# -----------------
# glibc 2.34+ has pthreads in libc; still pass -pthread for the compiler's
# sake (sanitizer runtimes and older toolchains look at it).
AC_DEFUN([RD_PTHREAD], [
	PTHREAD_CFLAGS=-pthread
	PTHREAD_LIBS=-pthread
	AC_SUBST([PTHREAD_CFLAGS])
	AC_SUBST([PTHREAD_LIBS])
])
