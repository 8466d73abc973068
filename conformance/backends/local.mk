## conformance/backends: in-tree backends of other designs than librundown,
## built at `make check` as dlopen-able modules (not installed).

# Flags of every in-tree backend module: a shared object whatever
# check_LTLIBRARIES would make by default, exporting the wdm.h names only.
rd_module_ldflags = $(AM_LDFLAGS) -module -avoid-version -rpath /nowhere \
	-export-symbols-regex '^Ex(Initialize|ReInitialize|Acquire|Release|WaitFor|Rundown|Allocate|SizeOf|Free)'

check_LTLIBRARIES += %reldir%/librundown-alt.la
%canon_reldir%_librundown_alt_la_SOURCES = %reldir%/alt.c
%canon_reldir%_librundown_alt_la_LDFLAGS = $(rd_module_ldflags)

check_LTLIBRARIES += %reldir%/librundown-spinwait.la
%canon_reldir%_librundown_spinwait_la_SOURCES = %reldir%/spinwait.c
%canon_reldir%_librundown_spinwait_la_LDFLAGS = $(rd_module_ldflags)

EXTRA_DIST += %reldir%/README.md
