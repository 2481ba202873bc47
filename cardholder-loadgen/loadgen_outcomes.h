/*
 * The per-request outcome file (--outcomes FILE): one line per request once
 * its fate is settled, so that a soak run can reconcile every answer the
 * cardholders saw against the banks' journals. Lines of several threads
 * interleave (stdio locks each line); the header names the columns:
 *
 *   acquirer stan local_time rrn terminal pan amount intended_ms code reversal_stan reversal_code
 *
 * code: the 1110's DE 39 within the timeout, or "timeout"; reversal_stan "-"
 * when no 1420 was sent; reversal_code the 1430's DE 39, "none" when every
 * attempt went unanswered, "-" when no reversal was sent. intended_ms: the
 * planned send time in ms after the run start (the header gives the start as
 * Unix ns), so that outcomes can be put on a time line.
 */
#ifndef LOADGEN_OUTCOMES_H
#define LOADGEN_OUTCOMES_H

#include <stdio.h>

struct loadgen_worker;
struct pending_entry;

/* Opens FILE and writes the header; NULL (errno set) on failure. */
FILE *loadgen_outcomes_open(const char *path, long long start_unix_ns);
/* Writes the settled entry's line; a no-op when the run has no outcome file. */
void loadgen_outcome_write(struct loadgen_worker *w, const struct pending_entry *e, int code, int reversal_code);

#define LOADGEN_OUTCOME_TIMEOUT (-1)  /* code: no 1110 within the timeout */
#define LOADGEN_OUTCOME_NONE (-2)     /* reversal_code: no reversal sent */
#define LOADGEN_OUTCOME_LOST (-3)     /* reversal_code: no 1430 to any attempt */

#endif
