## examples: a tiny backend built with one cc command, an expected-failure
## file, and CI workflows for backend projects (examples/ci).
TESTS += %reldir%/tiny-backend-test
dist_check_SCRIPTS += %reldir%/tiny-backend-test
EXTRA_DIST += %reldir%/backend/tiny_backend.c %reldir%/expect-fail.txt
