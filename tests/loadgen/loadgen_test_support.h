/* Reading the load generator's report (summary.json) in its tests. */
#ifndef LOADGEN_TEST_SUPPORT_H
#define LOADGEN_TEST_SUPPORT_H

#include <jansson.h>
#include <stdint.h>

/* summary.json of a report directory, or NULL. */
json_t *test_load_summary(const char *report_dir);
/* counts.<name> of a summary (0 if absent). */
uint64_t test_count(json_t *summary, const char *name);
/* action_codes.<code> or reversal_action_codes.<code> (0 if absent). */
uint64_t test_code(json_t *summary, const char *table, const char *code);

#endif
