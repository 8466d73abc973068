## Cache-aware-specific, IRQL, ABI and CONCEPT conformance tests.
## The tests register themselves (conform.h); specific_util.[ch] are their
## shared helpers (CPU lists, the CA lifecycle, the independence driver).

conformance_rundown_conform_SOURCES += \
	%reldir%/specific_util.c %reldir%/specific_util.h \
	%reldir%/specific_ca_buffer.c %reldir%/specific_ca_alloc.c \
	%reldir%/specific_cross_cpu.c %reldir%/specific_irql.c \
	%reldir%/specific_plain_storage.c %reldir%/specific_abi.c \
	%reldir%/specific_symbols.c
