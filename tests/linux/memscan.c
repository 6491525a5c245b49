/* Counts where a marker lies in this Linux VM's RAM, read through
 * /proc/kcore: the system tests check with it that a VM's next instance
 * finds nothing its previous one left (the hypervisor zeroes a stopped
 * VM's memory).
 *   memscan HEAD TAIL LO HI
 * counts the places where the bytes of HEAD are directly followed by those
 * of TAIL in the RAM segments whose physical address lies in [LO, HI), and
 * prints "kscan: N segments, M hits". The marker is given in two parts so
 * that it exists whole nowhere in memory but where the test wrote it. */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20)
#define MAX_PART 64

struct marker {
	const char *head, *tail;
	size_t head_len, len;
};

/* The whole markers in buf[0, n). */
static unsigned long count_hits(const unsigned char *buf, size_t n, const struct marker *m)
{
	unsigned long hits = 0;

	for (size_t i = 0; i + m->len <= n; i++) {
		if (buf[i] != (unsigned char)m->head[0])
			continue;
		if (!memcmp(buf + i, m->head, m->head_len) &&
		    !memcmp(buf + i + m->head_len, m->tail, m->len - m->head_len))
			hits++;
	}
	return hits;
}

static unsigned long scan_segment(int fd, const Elf64_Phdr *ph, const struct marker *m,
				  unsigned char *buf)
{
	size_t keep = 0;
	unsigned long hits = 0;

	for (uint64_t done = 0; done < ph->p_filesz;) {
		size_t want = CHUNK;
		if (ph->p_filesz - done < want)
			want = (size_t)(ph->p_filesz - done);
		ssize_t got = pread(fd, buf + keep, want, (off_t)(ph->p_offset + done));
		if (got <= 0)
			break;
		size_t n = keep + (size_t)got;
		hits += count_hits(buf, n, m);
		/* the last marker-length - 1 bytes hold no whole marker yet: one
		 * that starts there and crosses into the next chunk counts then */
		keep = n < m->len - 1 ? n : m->len - 1;
		memmove(buf, buf + n - keep, keep);
		done += (uint64_t)got;
	}
	return hits;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: memscan HEAD TAIL LO HI\n");
		return 2;
	}
	struct marker m = {argv[1], argv[2], strlen(argv[1]), strlen(argv[1]) + strlen(argv[2])};
	uint64_t lo = strtoull(argv[3], NULL, 0), hi = strtoull(argv[4], NULL, 0);
	if (!m.head_len || m.len == m.head_len || strlen(argv[1]) > MAX_PART ||
	    strlen(argv[2]) > MAX_PART) {
		fprintf(stderr, "memscan: HEAD and TAIL are 1 to %d bytes\n", MAX_PART);
		return 2;
	}
	int fd = open("/proc/kcore", O_RDONLY);
	Elf64_Ehdr eh;
	if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_phentsize != sizeof(Elf64_Phdr)) {
		perror("memscan: /proc/kcore");
		return 1;
	}
	unsigned char *buf = malloc(CHUNK + 2 * MAX_PART);
	unsigned long segments = 0, hits = 0;
	for (unsigned i = 0; buf && i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) !=
		    (ssize_t)sizeof(ph))
			return 1;
		if (ph.p_type != PT_LOAD || ph.p_paddr < lo || ph.p_paddr >= hi)
			continue;
		segments++;
		hits += scan_segment(fd, &ph, &m, buf);
	}
	printf("kscan: %lu segments, %lu hits\n", segments, hits);
	return buf ? 0 : 1;
}
