/*
 * The trace of a run: one line per event (datagram sent, delivered or lost,
 * fault, cardholder outcome) with the simulated time, hashed as it is written
 * (FNV-1a 64) so that two runs of one seed can be compared byte for byte by
 * their hash, and kept in memory so that a violation can print the lines of
 * the transaction concerned.
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sim_trace {
	uint64_t hash;
	uint64_t lines;
	const uint64_t *now_us; /* the simulated clock every line is stamped with */
	char *text;             /* every line, when keep */
	size_t length, capacity;
	bool keep;
	FILE *echo; /* NULL, or every line is written there too (--trace) */
};

void sim_trace_init(struct sim_trace *t, const uint64_t *now_us, bool keep, FILE *echo);
void sim_trace_free(struct sim_trace *t);
/* One line (no newline in fmt). */
void sim_trace_line(struct sim_trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints every kept line containing needle to out (at most max lines, the last ones). */
void sim_trace_grep(const struct sim_trace *t, const char *needle, FILE *out, size_t max);

#endif
