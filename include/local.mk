## Public headers: the backend contract, installed under <rundown/...>.
rundowninclude_HEADERS += \
	%reldir%/rundown/types.h \
	%reldir%/rundown/routines.h \
	%reldir%/rundown/ex_rundown_ref.h \
	%reldir%/rundown/ex_rundown_ref_cache_aware.h \
	%reldir%/rundown/rundown.h
