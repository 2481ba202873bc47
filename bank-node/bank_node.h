/* The bank-node program: options, and the wiring of store, writer, I/O, HTTP and faults. */
#ifndef BANK_NODE_H
#define BANK_NODE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ecosystem_config.h"

struct bank_options {
	const char *config_path;
	const char *bank_name;
	/* overrides of the bank's config entry; unset when NULL / negative */
	const char *lmdb_path;
	int http_port;
	int iso_port;
	int durability; /* enum durability */
	long batch_max;
	long answer_budget_ms;
	double delay_probability;
	long delay_ms;
	double drop_probability;
	bool seed_set;
	uint64_t seed;
};

/* Parses argv; false with a one-line reason (or "help") in err. */
bool bank_options_parse(int argc, char **argv, struct bank_options *o, char *err, size_t err_size);
void bank_options_usage(FILE *out);
/* Applies the command-line overrides to a copy of the bank's config; false with a reason in err. */
bool bank_options_apply(const struct bank_options *o, struct cfg_bank *bank, char *err, size_t err_size);

/* Runs the node until *stop is set; returns the process exit status. */
int bank_node_run(const struct bank_options *o, volatile sig_atomic_t *stop);

#endif
