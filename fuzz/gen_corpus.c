/*
 * fuzz/gen_corpus.c - write the built-in seeds (seeds.c) as fuzz/corpus/
 * files, one per documented lifecycle: gen-corpus DIR.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/seeds.h"

int main(int argc, char **argv)
{
	const struct rundown_seed *s;
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: gen-corpus DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "gen-corpus: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	s = rundown_seeds(&n);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", argv[1], s[i].name);
		if ((f = fopen(path, "wb")) == NULL || fwrite(s[i].data, 1, s[i].len, f) != s[i].len ||
		    fclose(f) != 0) {
			fprintf(stderr, "gen-corpus: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	printf("gen-corpus: %zu seeds in %s\n", n, argv[1]);
	return 0;
}
