/*
 * The switch inside the simulation: the real switch_core (its workers, their
 * pending tables, timer wheels, outcome memories and hand-over rings, and the
 * store-and-forward forwarder on its LMDB environment) over a simulated port,
 * stepped by the simulator as test_switch_worker does: the forwarder's turn,
 * then every worker's poll, until no worker has work left. A crash destroys
 * the core without stopping it (nothing settled, the forwarder's rings not
 * committed) and a restart builds it again, reloading the queue from disk.
 */
#ifndef SIM_SWITCH_H
#define SIM_SWITCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ecosystem_config.h"
#include "sim_net.h"

struct switch_core;

struct sim_switch {
	const struct ecosystem_config *cfg;
	const char *network;
	struct sim_node *node;
	struct sim_trace *trace;
	struct switch_core *core;
	bool up;
	bool crash_after_forwarder_step; /* dies once the forwarder committed, before any worker hears */
	uint64_t crashes;
};

bool sim_switch_start(struct sim_switch *s, char *err, size_t err_size);
void sim_switch_step(struct sim_switch *s, uint64_t now_ms);
void sim_switch_crash(struct sim_switch *s);
/* Advices on disk and in the exception queue (false when down). */
bool sim_switch_saf_counts(struct sim_switch *s, uint64_t *queued, uint64_t *exceptions);

/* The forwarder's view of its queue, per bank, to out (NULL: nothing). */
void sim_switch_describe_queue(struct sim_switch *s, FILE *out);

#endif
