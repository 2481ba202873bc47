/* _GNU_SOURCE (SEEK_DATA, SEEK_HOLE) comes from the build flags. */
#include "pan_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pan_scan_init(struct pan_scan *s)
{
	memset(s, 0, sizeof(*s));
}

void pan_scan_free(struct pan_scan *s)
{
	free(s->pans);
	memset(s, 0, sizeof(*s));
}

static int compare(const void *a, const void *b)
{
	return strcmp(a, b);
}

bool pan_scan_add(struct pan_scan *s, const char *pan)
{
	size_t n = strlen(pan);
	if (n < 12 || n > 19)
		return false;
	if (s->count == s->capacity) {
		size_t cap = s->capacity ? 2 * s->capacity : 256;
		char(*more)[20] = realloc(s->pans, cap * sizeof(*more));
		if (!more)
			return false;
		s->pans = more;
		s->capacity = cap;
	}
	memcpy(s->pans[s->count++], pan, n + 1);
	qsort(s->pans, s->count, sizeof(*s->pans), compare);
	return true;
}

static bool known(const struct pan_scan *s, const char *digits, size_t n)
{
	char key[20];
	memcpy(key, digits, n);
	key[n] = '\0';
	return bsearch(key, s->pans, s->count, sizeof(*s->pans), compare) != NULL;
}

static void hit(struct pan_scan *s, const char *path, uint64_t offset, const char *digits, size_t n)
{
	if (s->hit_count < PAN_SCAN_MAX_HITS)
		snprintf(s->hits[s->hit_count], sizeof(s->hits[0]), "%s @%llu: %.*s", path, (unsigned long long)offset,
			 (int)n, digits);
	s->hit_count++;
}

/* Every substring of 12 to 19 digits of each run of digits, looked up in the set. */
static void scan_run(struct pan_scan *s, const char *path, uint64_t base, const char *run, size_t len)
{
	for (size_t start = 0; start + 12 <= len; start++)
		for (size_t n = 12; n <= 19 && start + n <= len; n++)
			if (known(s, run + start, n)) {
				hit(s, path, base + start, run + start, n);
				return; /* one report per run of digits */
			}
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static struct pan_scan *current;
static bool failed;

/* One data extent [from, to), in chunks; a run of digits cut by a chunk's end is read again whole. */
static bool scan_extent(struct pan_scan *s, int fd, const char *path, off_t from, off_t to)
{
	enum { CHUNK = 1 << 20 };
	static char buf[CHUNK];
	bool lmdb = strlen(path) >= 8 && strcmp(path + strlen(path) - 8, "data.mdb") == 0;
	off_t at = from;
	while (at < to) {
		size_t want = (size_t)(to - at) < CHUNK ? (size_t)(to - at) : CHUNK;
		ssize_t got = pread(fd, buf, want, at);
		if (got <= 0)
			return got == 0;
		bool last = at + got >= to;
		size_t i = 0, done = (size_t)got;
		while (i < (size_t)got) {
			if (!is_digit(buf[i])) {
				i++;
				continue;
			}
			size_t j = i;
			while (j < (size_t)got && is_digit(buf[j]))
				j++;
			if (j == (size_t)got && !last && i > 0) {
				done = i; /* the next chunk starts with this run */
				break;
			}
			if (j - i >= 12)
				scan_run(s, path, (uint64_t)at + i, buf + i, j - i);
			i = j;
		}
		s->data_bytes += done;
		if (lmdb)
			s->lmdb_data_bytes += done;
		at += (off_t)done;
	}
	return true;
}

static bool scan_file(struct pan_scan *s, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "pan_scan: %s: %s\n", path, strerror(errno));
		return false;
	}
	off_t size = lseek(fd, 0, SEEK_END);
	off_t at = 0;
	bool ok = size >= 0;
	while (ok && at < size) {
		off_t data = lseek(fd, at, SEEK_DATA);
		if (data < 0) {
			ok = errno == ENXIO; /* no data after at: the rest is a hole */
			break;
		}
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = size;
		ok = scan_extent(s, fd, path, data, hole);
		at = hole;
	}
	close(fd);
	s->files++;
	return ok;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_F && !scan_file(current, path))
		failed = true;
	return 0;
}

bool pan_scan_tree(struct pan_scan *s, const char *dir)
{
	s->files = s->hit_count = 0;
	s->data_bytes = s->lmdb_data_bytes = 0;
	current = s;
	failed = false;
	int rc = nftw(dir, visit, 16, FTW_PHYS);
	current = NULL;
	return rc == 0 && !failed;
}
