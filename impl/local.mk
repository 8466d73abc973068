## librundown: the reference implementation (a backend like any other).
lib_LTLIBRARIES += %reldir%/librundown.la
%canon_reldir%_librundown_la_SOURCES = \
	%reldir%/plain.c \
	%reldir%/cache_aware.c \
	%reldir%/cache_aware.h \
	%reldir%/cache_aware_alloc.c \
	%reldir%/cpu.c \
	%reldir%/cpu.h \
	%reldir%/futex.h
# Export the 19 wdm.h names and nothing else.
%canon_reldir%_librundown_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 \
	-export-symbols-regex '^Ex(Initialize|ReInitialize|Acquire|Release|WaitFor|Rundown|Allocate|SizeOf|Free)'
%canon_reldir%_librundown_la_LIBADD = $(PTHREAD_LIBS)

pkgconfig_DATA = %reldir%/librundown.pc
DISTCLEANFILES += %reldir%/librundown.pc
