/* Helpers shared by the load-generator tests: temp dirs and summary.json reading. */
#ifndef LOADGEN_TEST_SUPPORT_H
#define LOADGEN_TEST_SUPPORT_H

#include <jansson.h>
#include <stdint.h>

/* A fresh directory under $TMPDIR (or /tmp); the path is written to out. */
void test_make_temp_dir(char *out, size_t size, const char *tag);
/* Removes a directory tree (only paths under /tmp-like temp dirs this test made). */
void test_remove_tree(const char *path);
/*
 * Claims one of `blocks` blocks of `size` ports starting at `first` (all in
 * this engineer's range) for the rest of the test process, with an flock on
 * /tmp/iso8583-loadgen-ports-<port>.lock: the same test run from several
 * build directories at once then never shares ports (UDP sockets bind with
 * SO_REUSEPORT and would silently share traffic). Waits up to wait_seconds
 * for a free block; returns its first port, or -1.
 */
int test_claim_ports(int first, int size, int blocks, int wait_seconds);

/* summary.json of a report directory, or NULL. */
json_t *test_load_summary(const char *report_dir);
/* counts.<name> of a summary (0 if absent). */
uint64_t test_count(json_t *summary, const char *name);
/* action_codes.<code> or reversal_action_codes.<code> (0 if absent). */
uint64_t test_code(json_t *summary, const char *table, const char *code);

#endif
