#include "sim_switch.h"

#include <stdio.h>
#include <urcu-qsbr.h>

#include "switch_core.h"
#include "switch_worker.h"

#define SIM_SWITCH_PENDING 4096

bool sim_switch_start(struct sim_switch *s, char *err, size_t err_size)
{
	s->node->up = true;
	s->node->drop_tx = false;
	s->node->incarnation++;
	s->core = switch_core_create(s->cfg, NULL, s->network, &s->node->port, SIM_SWITCH_PENDING, err, err_size);
	if (!s->core) {
		s->node->up = false;
		return false;
	}
	/* The simulator's thread reads the routes and cards as the workers' threads would. */
	rcu_register_thread();
	s->up = true;
	return true;
}

void sim_switch_crash(struct sim_switch *s)
{
	if (!s->up)
		return;
	s->up = false;
	s->crashes++;
	sim_net_node_down(s->node);
	/* Freeing the core waits for RCU grace periods: not as a reader. Never started,
	 * it neither settles its pending transactions nor commits the forwarder's rings. */
	rcu_unregister_thread();
	switch_core_destroy(s->core);
	s->core = NULL;
}

void sim_switch_step(struct sim_switch *s, uint64_t now_ms)
{
	if (!s->up)
		return;
	for (int round = 0; round < 16; round++) {
		/* The forwarder first: it stores what the workers handed in last round
		 * and sends what is due; the workers then take its replies. */
		saf_forwarder_step(s->core->saf, now_ms);
		if (s->crash_after_forwarder_step) {
			s->crash_after_forwarder_step = false;
			sim_trace_line(s->trace, "fault: switch dies after its forwarder's commit, before the workers hear");
			sim_switch_crash(s);
			return;
		}
		unsigned work = 0;
		for (uint16_t i = 0; i < s->core->worker_count; i++)
			work += switch_worker_poll(s->core->workers[i], now_ms);
		rcu_quiescent_state();
		if (!work)
			return;
	}
}

bool sim_switch_saf_counts(struct sim_switch *s, uint64_t *queued, uint64_t *exceptions)
{
	if (!s->up)
		return false;
	return saf_forwarder_counts(s->core->saf, queued, exceptions) == 0;
}
