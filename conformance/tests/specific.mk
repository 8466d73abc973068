## Cache-aware-specific, IRQL, ABI and CONCEPT conformance tests.
