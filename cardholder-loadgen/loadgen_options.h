/*
 * Command line of cardholder-loadgen. Everything not given falls back to the
 * config's `loadgen:` section; see docs/loadgen.md.
 */
#ifndef LOADGEN_OPTIONS_H
#define LOADGEN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ecosystem_config.h"

struct loadgen_options {
	const char *config_path;
	const char *report_dir;   /* NULL: reports/<UTC timestamp>/ */
	const char *outcomes_path; /* NULL: no per-request outcome file */
	const char *bind_host;    /* local address the generator sends from */
	const char *only_network; /* NULL: cards of every network */
	bool has_rate, has_duration, has_max_requests, has_arrivals, has_timeout;
	double rate;
	double duration_s;
	uint64_t max_requests;
	enum arrival_process arrivals;
	uint32_t timeout_ms;
	unsigned threads;
	unsigned terminals_per_thread;
	unsigned batch;           /* most frames per datagram when several are due at once */
	unsigned spin_polls;      /* 0: sleep at once when idle; else pause-hint polls of the adaptive spin */
	unsigned reversal_attempts; /* 1420 plus 1421 repeats before a reversal counts as unanswered */
	uint64_t seed;
	bool progress;            /* a line per second on stderr */
	bool plots;               /* run gnuplot on the report */
	bool list_agents;         /* print the agents' HTTP endpoints and exit (scripts) */
	const char *dataplane;    /* "socket" or "dpdk" */
	const char *link;         /* "udp" or "tcp"; NULL: the config's loadgen.link */
	uint16_t dpdk_udp_port;   /* --dataplane dpdk: our UDP port */
	const char *dpdk_address; /* --dataplane dpdk: our IPv4 address */
	int eal_argc;             /* after "--" */
	char **eal_argv;
};

/*
 * Parses argv. Returns 0 to run, 1 when --help was printed, -1 on a bad
 * option (message in err).
 */
int loadgen_options_parse(int argc, char **argv, struct loadgen_options *o, char *err, size_t err_size);
void loadgen_options_usage(FILE *out);

#endif
