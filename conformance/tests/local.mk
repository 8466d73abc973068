## conformance/tests: the conformance tests, linked into rundown-conform.
## Each group of test files adds itself in its own fragment:
##	generic.mk   clauses with the same meaning in both families
##	specific.mk  cache-aware buffers and allocation, cross-CPU, IRQL, ABI
