## Family-generic conformance tests (appended to the runner's sources).
## One body per clause pair, registered once per family (generic_util.h).
## family.c/family.h, the interface shared with specific.mk's tests, are
## listed here once.

conformance_rundown_conform_SOURCES += \
	%reldir%/family.c %reldir%/family.h \
	%reldir%/generic_util.c %reldir%/generic_util.h \
	%reldir%/generic_state.c \
	%reldir%/generic_acquire.c \
	%reldir%/generic_acquire_ex.c \
	%reldir%/generic_release.c \
	%reldir%/generic_wait.c \
	%reldir%/generic_race_release.c \
	%reldir%/generic_race_acquire.c \
	%reldir%/generic_reinit.c \
	%reldir%/generic_ordering.c \
	%reldir%/generic_lifecycle.c
