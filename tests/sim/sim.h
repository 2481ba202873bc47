/*
 * The deterministic simulation of the ecosystem (docs/simulation.md): the
 * real switch (workers, store-and-forward on LMDB), the real bank I/O path
 * and group-commit writer (on LMDB), and simulated cardholders, stepped in one
 * thread over a simulated network and clock, with faults drawn from one seed.
 * A run checks the money invariants continuously and, after healing and
 * draining, at its end; the same seed replays the same run (same trace hash).
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Fault classes, each on or off for a run (sim --faults). */
enum sim_fault_class {
	SIM_FAULT_LOSS = 1u << 0,         /* datagrams lost per link */
	SIM_FAULT_DUPLICATE = 1u << 1,    /* datagrams delivered twice */
	SIM_FAULT_REORDER = 1u << 2,      /* delay jitter per link: reordering */
	SIM_FAULT_PARTITION = 1u << 3,    /* a link cut, then healed */
	SIM_FAULT_BANK_CRASH = 1u << 4,   /* a bank killed (some between commit and answer), restarted */
	SIM_FAULT_SWITCH_CRASH = 1u << 5, /* the switch killed (some after its SAF commit), restarted */
	SIM_FAULT_SLOW_DISK = 1u << 6,    /* a bank's commits take long for a while */
	SIM_FAULT_CLOCK_JUMP = 1u << 7,   /* the wall clock stepped, as NTP may */
	SIM_FAULT_MALFORMED = 1u << 8,    /* junk and truncated datagrams to the switch and banks */
	/* A cardholder's 1100 repeated as 1101 (or a copy delayed in the network) across a
	 * switch restart (docs/simulation.md's findings 3 and 4, closed). */
	SIM_FAULT_RESEND_ACROSS_RESTART = 1u << 9,
	/* Not a fault: the banks' load shedding as shipped (answer_budget_ms 100, else 0), under
	 * which a slow disk gets requests answered 912 (findings 4 and 5, closed). */
	SIM_FAULT_SHEDDING = 1u << 10,
};
#define SIM_FAULTS_ALL 0x7ffu
#define SIM_FAULTS_DEFAULT SIM_FAULTS_ALL /* every class: no finding is open */

struct sim_options {
	uint64_t seed;
	unsigned faults;       /* enum sim_fault_class bits */
	uint32_t load_ms;      /* simulated time cardholders start transactions */
	uint32_t cardholders;  /* at most 48 */
	uint16_t workers;      /* switch workers, 1..4 */
	/*
	 * Restores an old behaviour the simulator must catch:
	 *   "abandon-advices": reversal advices leave the queue after reversal_retention_s = 1 s
	 *   (the lost-reversal bug: advices abandoned after a few attempts).
	 */
	const char *mutation;
	/* Cardholders take the switch's 913 (its answer to a copy of an 1100 whose original is
	 * settled) as the decline of their payment, as a terminal may: docs/simulation.md. */
	bool decline_on_913;
	FILE *trace;   /* NULL, or every trace line is written there */
	bool quiet;    /* no violation report on stderr */
};

struct sim_result {
	bool ok;
	uint64_t trace_hash, trace_lines;
	uint64_t steps;         /* simulated milliseconds */
	uint64_t authorizations, approved, declined, timed_out, reversals;
	uint64_t faults;        /* fault events (crashes, partitions, slow disks, jumps, junk) */
	uint64_t datagrams, lost, duplicated, partitioned;
	double wall_seconds;
	char violation[512];    /* the first one, "" when ok */
	uint64_t violation_step;
};

/* Runs one seed. False only when the run could not be set up (err says why). */
bool sim_run(const struct sim_options *o, struct sim_result *r, char *err, size_t err_size);
/* "loss,duplicate,..." or "default", "all", "none" -> bits; false on an unknown name. */
bool sim_faults_parse(const char *text, unsigned *out);
void sim_faults_format(unsigned faults, char *out, size_t size);

#endif
