## librundown: the reference implementation (a backend like any other).
lib_LTLIBRARIES += %reldir%/librundown.la
%canon_reldir%_librundown_la_SOURCES = \
	%reldir%/plain.c \
	%reldir%/cache_aware.c \
	%reldir%/cache_aware.h \
	%reldir%/cache_aware_alloc.c \
	%reldir%/cpu.c \
	%reldir%/cpu.h \
	%reldir%/futex.h \
	%reldir%/hot.h \
	%reldir%/rseq.h
# Export the 19 wdm.h names and nothing else.
# Calls between the library's own routines (Acquire -> AcquireEx, Allocate
# -> Initialize) bind inside the library: no PLT hop on the fast path, and a
# program that also loads another backend cannot divert them.
%canon_reldir%_librundown_la_CFLAGS = $(AM_CFLAGS) -fno-semantic-interposition
%canon_reldir%_librundown_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 \
	-Wl,-Bsymbolic-functions \
	-export-symbols-regex '^Ex(Initialize|ReInitialize|Acquire|Release|WaitFor|Rundown|Allocate|SizeOf|Free)'
%canon_reldir%_librundown_la_LIBADD = $(PTHREAD_LIBS)

pkgconfig_DATA = %reldir%/librundown.pc
DISTCLEANFILES += %reldir%/librundown.pc
