/*
 * conformance/backend_linked.c - the backend linked into this program.
 *
 * Kept apart from backend.c so that only programs that link librundown
 * (tools that can run without --backend) reference its symbols.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <rundown/rundown.h>

#include "conformance/backend.h"

#if defined(__SANITIZE_THREAD__)
#define RD_LINKED_TSAN true
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RD_LINKED_TSAN true
#endif
#endif
#ifndef RD_LINKED_TSAN
#define RD_LINKED_TSAN false
#endif

#if defined(__SANITIZE_ADDRESS__)
#define RD_LINKED_ASAN true
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RD_LINKED_ASAN true
#endif
#endif
#ifndef RD_LINKED_ASAN
#define RD_LINKED_ASAN false
#endif

void rundown_backend_linked(struct rundown_backend *b)
{
	memset(b, 0, sizeof(*b));
#define RUNDOWN_LINK(ret, name, params, args, family) b->name = name;
	RUNDOWN_ROUTINES(RUNDOWN_LINK)
#undef RUNDOWN_LINK
	snprintf(b->path, sizeof(b->path), "%s", "(linked librundown)");
	/* librundown is built with this program's flags in the same tree. */
	b->tsan_instrumented = RD_LINKED_TSAN;
	b->asan_instrumented = RD_LINKED_ASAN;
}
