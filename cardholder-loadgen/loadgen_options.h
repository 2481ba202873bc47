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

/*
 * An acquirer host bounds what it has outstanding on a link: over TCP a switch that falls
 * behind makes requests wait in the link's buffers, unseen, until they time out; declining
 * locally past this keeps the queue shorter than a timeout at any rate the switch can take
 * (8192 per thread at ~100,000 decided/s over 2 threads: under 0.2 s of queue).
 */
#define LOADGEN_TCP_MAX_OUTSTANDING 8192

struct loadgen_options {
	const char *config_path;
	const char *report_dir;   /* NULL: reports/<UTC timestamp>/ */
	const char *outcomes_path; /* NULL: no per-request outcome file */
	const char *bind_host;    /* local address the generator sends from */
	const char *only_network; /* NULL: cards of every network */
	bool has_rate, has_duration, has_max_requests, has_arrivals, has_timeout, has_max_outstanding;
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
	/* Requests a thread keeps awaiting an answer at once (its link to each switch); past it a new
	 * 1100 is declined locally (not_sent_link_congested). 0: no limit. Not given: LOADGEN_TCP_MAX_OUTSTANDING
	 * over TCP, no limit over UDP. */
	uint64_t max_outstanding;
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
