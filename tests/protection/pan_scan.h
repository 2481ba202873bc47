/*
 * Finds PANs of a known set in files: every regular file under a directory,
 * each read by its data extents only (SEEK_DATA / SEEK_HOLE), because LMDB
 * files are sparse and as large as their map (gigabytes of holes). A PAN is
 * looked for as ASCII digits, the way every program of the project writes one.
 */
#ifndef TEST_PAN_SCAN_H
#define TEST_PAN_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAN_SCAN_MAX_HITS 16

struct pan_scan {
	char (*pans)[20]; /* sorted, NUL-terminated */
	size_t count, capacity;
	/* Results of the last pan_scan_tree. */
	size_t files, hit_count;
	uint64_t data_bytes; /* bytes read from data extents */
	uint64_t lmdb_data_bytes; /* of those, in files named data.mdb */
	char hits[PAN_SCAN_MAX_HITS][600]; /* "file @offset: pan" */
};

void pan_scan_init(struct pan_scan *s);
void pan_scan_free(struct pan_scan *s);
bool pan_scan_add(struct pan_scan *s, const char *pan);
/* Scans every regular file under dir; false when a file could not be read. */
bool pan_scan_tree(struct pan_scan *s, const char *dir);

#endif
