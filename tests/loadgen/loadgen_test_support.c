#include "loadgen_test_support.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void test_make_temp_dir(char *out, size_t size, const char *tag)
{
	const char *base = getenv("TMPDIR");
	snprintf(out, size, "%s/loadgen-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	if (!mkdtemp(out))
		out[0] = '\0';
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void test_remove_tree(const char *path)
{
	if (path && strstr(path, "/loadgen-"))
		nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int test_claim_ports(int first, int size, int blocks, int wait_seconds)
{
	for (int attempt = 0; attempt <= wait_seconds * 10; attempt++) {
		for (int b = 0; b < blocks; b++) {
			char path[128];
			snprintf(path, sizeof path, "/tmp/iso8583-loadgen-ports-%d.lock", first + b * size);
			int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0666);
			if (fd < 0)
				continue;
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				return first + b * size; /* the descriptor stays open: the claim lasts until exit */
			close(fd);
		}
		struct timespec ts = {0, 100000000L};
		nanosleep(&ts, NULL);
	}
	return -1;
}

json_t *test_load_summary(const char *report_dir)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/summary.json", report_dir);
	json_error_t e;
	return json_load_file(path, 0, &e);
}

uint64_t test_count(json_t *summary, const char *name)
{
	json_t *v = json_object_get(json_object_get(summary, "counts"), name);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

uint64_t test_code(json_t *summary, const char *table, const char *code)
{
	json_t *v = json_object_get(json_object_get(summary, table), code);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}
