/*
 * conformance/backend.c - load a backend: check the file, then dlopen/dlsym.
 *
 * Why check before dlopen: dlopen's own errors for a wrong file are poor
 * ("invalid ELF header", "wrong ELF class: ELFCLASS32") and some misuses do
 * not fail cleanly at all: an ASan- or TSan-instrumented backend dlopen-ed
 * into a program without that runtime aborts the whole process from inside
 * the sanitizer runtime.  So the file is read first, without executing any
 * of it:
 *
 *	exists -> readable -> ELF magic -> ELFCLASS64 and this program's byte
 *	order -> this program's e_machine -> ET_DYN -> instrumentation
 *
 * The reference values come from this program's own ELF header
 * (/proc/self/exe), so the check is right on every architecture the suite
 * builds for.  Instrumentation is read from the dynamic symbol table
 * (.dynsym): an instrumented object has undefined references to the
 * runtime's entry points (__tsan_read8, __asan_report_load4, ...).  The
 * parse is bounds-checked against the file size at every step, since the
 * file is arbitrary input.
 *
 * A missing routine is not an error (rundown_backend_missing() names it);
 * a backend that exports none of the 19 is.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conformance/backend.h"
#include "conformance/error.h"

static const char *const rd_routine_names[RUNDOWN_ID_COUNT] = {
#define RUNDOWN_NAME(ret, name, params, args, family) #name,
	RUNDOWN_ROUTINES(RUNDOWN_NAME)
#undef RUNDOWN_NAME
};

const char *rundown_routine_name(unsigned id)
{
	return id < RUNDOWN_ID_COUNT ? rd_routine_names[id] : NULL;
}

uint32_t rundown_backend_missing(const struct rundown_backend *b)
{
	uint32_t mask = 0;

#define RUNDOWN_MISSING(ret, name, params, args, family) \
	if (!b->name)                                     \
		mask |= RUNDOWN_BIT(name);
	RUNDOWN_ROUTINES(RUNDOWN_MISSING)
#undef RUNDOWN_MISSING
	return mask;
}


static const char *rd_machine_name(unsigned m)
{
	switch (m) {
	case EM_386: return "i386";
	case EM_X86_64: return "x86-64";
	case EM_ARM: return "arm";
	case EM_AARCH64: return "aarch64";
	case EM_PPC: return "ppc";
	case EM_PPC64: return "ppc64";
	case EM_S390: return "s390";
	case EM_MIPS: return "mips";
	case EM_RISCV: return "riscv";
	case EM_SPARCV9: return "sparc64";
	default: return NULL;
	}
}

static const char *rd_type_name(unsigned t)
{
	switch (t) {
	case ET_NONE: return "no file type";
	case ET_REL: return "a relocatable object (.o)";
	case ET_EXEC: return "an executable";
	case ET_CORE: return "a core file";
	default: return "an unknown ELF type";
	}
}

/* The identification and machine of this very program. */
static int rd_self_header(Elf64_Ehdr *self)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, self, sizeof(*self), 0);
	close(fd);
	return n == (ssize_t)sizeof(*self) ? 0 : -1;
}

/*
 * Scan the dynamic symbol table of the mapped file for undefined references
 * to the TSan and ASan runtimes.  Returns 0 when a .dynsym was read, -1 when
 * the file has no usable section headers (the flags then stay false).
 */
static int rd_scan_dynsym(const unsigned char *p, size_t size, bool *tsan, bool *asan)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)p;
	const Elf64_Shdr *sh;
	size_t i;

	*tsan = *asan = false;
	if (eh->e_shoff == 0 || eh->e_shnum == 0 || eh->e_shentsize != sizeof(Elf64_Shdr))
		return -1;
	if (eh->e_shoff > size || (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum)
		return -1;
	if (eh->e_shoff % _Alignof(Elf64_Shdr))
		return -1;
	sh = (const Elf64_Shdr *)(p + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sym = &sh[i], *str;
		const char *strtab;
		size_t nsym, k;

		if (sym->sh_type != SHT_DYNSYM)
			continue;
		if (sym->sh_link >= eh->e_shnum || sym->sh_entsize != sizeof(Elf64_Sym))
			return -1;
		str = &sh[sym->sh_link];
		if (sym->sh_offset > size || sym->sh_size > size - sym->sh_offset ||
		    sym->sh_offset % _Alignof(Elf64_Sym) || str->sh_offset > size ||
		    str->sh_size > size - str->sh_offset || str->sh_size == 0)
			return -1;
		strtab = (const char *)p + str->sh_offset;
		nsym = sym->sh_size / sizeof(Elf64_Sym);
		for (k = 0; k < nsym; k++) {
			const Elf64_Sym *s = (const Elf64_Sym *)(p + sym->sh_offset) + k;
			const char *name;
			size_t room;

			if (s->st_shndx != SHN_UNDEF || s->st_name >= str->sh_size)
				continue;
			name = strtab + s->st_name;
			room = str->sh_size - s->st_name;
			if (room > 7 && strncmp(name, "__tsan_", 7) == 0)
				*tsan = true;
			else if (room > 7 && strncmp(name, "__asan_", 7) == 0)
				*asan = true;
		}
		return 0;
	}
	return -1;
}

/* Everything that can be said about the file without running any of it. */
static int rd_check_file(struct rundown_backend *b, const char *path, char *err, size_t errlen)
{
	Elf64_Ehdr self;
	const Elf64_Ehdr *eh;
	struct stat st;
	unsigned char *map;
	int fd, rc = 0;

	if (stat(path, &st) != 0)
		return rundown_error(err, errlen, "%s", errno == ENOENT ? "no such file" : strerror(errno));
	if (S_ISDIR(st.st_mode))
		return rundown_error(err, errlen, "is a directory, not a shared object");
	if (!S_ISREG(st.st_mode))
		return rundown_error(err, errlen, "not a regular file");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rundown_error(err, errlen, "cannot read: %s", strerror(errno));
	if ((size_t)st.st_size < EI_NIDENT) {
		close(fd);
		return rundown_error(err, errlen, "not an ELF file (%lld bytes)", (long long)st.st_size);
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return rundown_error(err, errlen, "cannot read: %s", strerror(errno));
	eh = (const Elf64_Ehdr *)map;

	if (memcmp(map, ELFMAG, SELFMAG) != 0) {
		rc = rundown_error(err, errlen, "not an ELF file (bad magic)");
	} else if (rd_self_header(&self) != 0) {
		rc = rundown_error(err, errlen, "cannot read /proc/self/exe to compare architectures");
	} else if (map[EI_CLASS] != self.e_ident[EI_CLASS]) {
		rc = rundown_error(err, errlen, "wrong ELF class: %s, this runner is %s",
			    map[EI_CLASS] == ELFCLASS32 ? "32-bit (ELFCLASS32)" :
			    map[EI_CLASS] == ELFCLASS64 ? "64-bit (ELFCLASS64)" : "invalid",
			    self.e_ident[EI_CLASS] == ELFCLASS64 ? "64-bit" : "32-bit");
	} else if (map[EI_CLASS] != ELFCLASS64) {
		rc = rundown_error(err, errlen, "not a 64-bit ELF file (the contract is LP64)");
	} else if ((size_t)st.st_size < sizeof(Elf64_Ehdr)) {
		rc = rundown_error(err, errlen, "truncated ELF header (%lld bytes)", (long long)st.st_size);
	} else if (map[EI_DATA] != self.e_ident[EI_DATA]) {
		rc = rundown_error(err, errlen, "wrong byte order (%s-endian), this host is %s-endian",
			    map[EI_DATA] == ELFDATA2MSB ? "big" : "little",
			    self.e_ident[EI_DATA] == ELFDATA2MSB ? "big" : "little");
	} else if (eh->e_machine != self.e_machine) {
		const char *theirs = rd_machine_name(eh->e_machine), *ours = rd_machine_name(self.e_machine);

		rc = rundown_error(err, errlen, "wrong architecture: built for %s (e_machine %u), this host is %s (e_machine %u)",
			    theirs ? theirs : "another machine", eh->e_machine, ours ? ours : "?",
			    self.e_machine);
	} else if (eh->e_type != ET_DYN) {
		rc = rundown_error(err, errlen, "not a shared object: %s (ELF type %u, want ET_DYN)",
			    rd_type_name(eh->e_type), eh->e_type);
	} else {
		/* No section headers (sstrip) leaves the flags false: the
		 * instrumentation is then unknown, not absent. */
		(void)rd_scan_dynsym(map, (size_t)st.st_size, &b->tsan_instrumented, &b->asan_instrumented);
	}
	munmap(map, (size_t)st.st_size);
	return rc;
}

/* Is this sanitizer's runtime in the process (linked in or preloaded)? */
static bool rd_runtime_present(const char *init_symbol)
{
	return dlsym(RTLD_DEFAULT, init_symbol) != NULL;
}

int rundown_backend_open(struct rundown_backend *b, const char *path, const char *prefix,
			 char *err, size_t errlen)
{
	char openpath[sizeof(b->path) + 2], sym[256];
	unsigned found = 0;
	void *h;

	memset(b, 0, sizeof(*b));
	if (!path || !*path)
		return rundown_error(err, errlen, "empty backend path");
	if (strlen(path) >= sizeof(b->path))
		return rundown_error(err, errlen, "path too long");
	snprintf(b->path, sizeof(b->path), "%s", path);
	if (!prefix)
		prefix = "";
	if (strlen(prefix) > 128)
		return rundown_error(err, errlen, "symbol prefix too long");

	if (rd_check_file(b, path, err, errlen) != 0)
		return -1;
	/* Loading an instrumented object without its runtime aborts inside
	 * the runtime; say what to do instead. */
	if (b->asan_instrumented && !rd_runtime_present("__asan_init"))
		return rundown_error(err, errlen,
			      "backend is ASan-instrumented but this rundown-conform is not: use a build "
			      "configured with --enable-sanitizers=address (or rebuild the backend without ASan)");
	if (b->tsan_instrumented && !rd_runtime_present("__tsan_init"))
		return rundown_error(err, errlen,
			      "backend is TSan-instrumented but this rundown-conform is not: use a build "
			      "configured with --enable-sanitizers=thread (or rebuild the backend without TSan)");

	/* A name without '/' would make dlopen search the library path and
	 * possibly load another file than the one just checked. */
	snprintf(openpath, sizeof(openpath), "%s%s", strchr(path, '/') ? "" : "./", path);
	dlerror();
	h = dlopen(openpath, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();

		return rundown_error(err, errlen, "dlopen failed: %s", e ? e : "unknown error");
	}
	b->handle = h;

#define RUNDOWN_RESOLVE(ret, name, params, args, family)                            \
	do {                                                                        \
		void *p_;                                                           \
		snprintf(sym, sizeof(sym), "%s%s", prefix, #name);                  \
		p_ = dlsym(h, sym);                                                 \
		/* POSIX: a data pointer from dlsym converts to a function pointer. */ \
		memcpy(&b->name, &p_, sizeof(p_));                                  \
		found += p_ != NULL;                                                \
	} while (0);
	RUNDOWN_ROUTINES(RUNDOWN_RESOLVE)
#undef RUNDOWN_RESOLVE

	if (found == 0) {
		rundown_backend_close(b);
		snprintf(b->path, sizeof(b->path), "%s", path);
		if (*prefix)
			return rundown_error(err, errlen, "exports none of the %d routines (looked for %sExAcquireRundownProtection etc.)",
				      RUNDOWN_NR_ROUTINES, prefix);
		return rundown_error(err, errlen,
			      "exports none of the %d routines (is it a backend? with a name prefix, use --symbol-prefix)",
			      RUNDOWN_NR_ROUTINES);
	}
	return 0;
}

void rundown_backend_close(struct rundown_backend *b)
{
	if (b->handle)
		dlclose(b->handle);
	memset(b, 0, sizeof(*b));
}
