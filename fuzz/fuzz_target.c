/*
 * fuzz/fuzz_target.c - libFuzzer / AFL++ entry point.
 *
 * Runs each input through the deterministic executor (ops.h) against the
 * reference linked in, or against the backend named by the environment
 * variable RUNDOWN_FUZZ_BACKEND (same loader as rundown-conform).
 * RUNDOWN_FUZZ_SPREAD=1 honours the inputs' spread bits, RUNDOWN_FUZZ_PIN=0
 * lets the executor move between CPUs (below).  A
 * divergence from the model prints the op table and aborts, so the engine
 * saves the input; `rundown-fuzz --replay FILE` reruns it against any
 * backend.  One executor (and its partner and watchdog threads) serves every
 * input: nothing is allocated per input but a cache-aware object.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/ops.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rundown_backend rd_backend;
static struct rundown_exec *rd_exec;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("RUNDOWN_FUZZ_BACKEND");
	/* One core, as a libFuzzer job is: the executor stays on the CPU it
	 * starts on, and spread (ops moved to other CPUs, ~27 us a migration
	 * here, a third of the speed) is off unless RUNDOWN_FUZZ_SPREAD=1;
	 * rundown-fuzz campaigns spread.  RUNDOWN_FUZZ_PIN=0: no home CPU. */
	const char *pin = getenv("RUNDOWN_FUZZ_PIN"), *spread = getenv("RUNDOWN_FUZZ_SPREAD");
	struct rundown_exec_opts o = {.allow_spread = spread != NULL && strcmp(spread, "1") == 0,
				      .pin_home = pin == NULL || strcmp(pin, "0") != 0};
	char err[512];

	(void)argc;
	(void)argv;
	if (path != NULL && *path != '\0') {
		if (rundown_backend_open(&rd_backend, path, NULL, err, sizeof(err)) != 0) {
			fprintf(stderr, "rundown fuzz target: cannot load RUNDOWN_FUZZ_BACKEND=%s: %s\n",
				path, err);
			exit(RUNDOWN_EXIT_USAGE);
		}
	} else {
		rundown_backend_linked(&rd_backend);
	}
	rd_exec = rundown_exec_new(&rd_backend, &o);
	if (rd_exec == NULL)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (rd_exec == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	if (size > 4096)
		return 0;
	if (rundown_exec_run(rd_exec, data, size) == RUNDOWN_EXEC_DIVERGED) {
		fprintf(stderr, "rundown fuzz target: divergence from the model (backend %s)\n",
			rd_backend.path);
		rundown_exec_print(rd_exec, stderr);
		abort();
	}
	return 0;
}
