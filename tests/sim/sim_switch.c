#include "sim_switch.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "switch_core.h"
#include "switch_worker.h"

#define SIM_SWITCH_PENDING 4096

bool sim_switch_start(struct sim_switch *s, char *err, size_t err_size)
{
	s->node->up = true;
	s->node->drop_tx = false;
	s->node->incarnation++;
	/* Its start-up warnings (links without MACs: the simulation's choice) would repeat at every
	 * restart of every run; a failure still says why in err. */
	fflush(stderr);
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null >= 0)
		dup2(null, STDERR_FILENO);
	s->core = switch_core_create(s->cfg, NULL, s->network, &s->node->port, SIM_SWITCH_PENDING, err, err_size);
	if (saved >= 0 && null >= 0)
		dup2(saved, STDERR_FILENO);
	if (saved >= 0)
		close(saved);
	if (null >= 0)
		close(null);
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
	s->crash_after_forwarder_step = false; /* a death planned for this life dies with it */
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

void sim_switch_describe_queue(struct sim_switch *s, FILE *out)
{
	if (!s->up || !out)
		return;
	struct saf_stats st;
	saf_forwarder_stats(s->core->saf, &st);
	fprintf(out, "sim: store-and-forward: %llu in memory, %llu stored, %llu reloaded, %llu acknowledged, %llu unmatched 1430s\n",
		(unsigned long long)st.queued, (unsigned long long)st.stored, (unsigned long long)st.loaded,
		(unsigned long long)st.acknowledged, (unsigned long long)st.unmatched_acks);
	for (size_t i = 0; i < st.bank_count; i++)
		fprintf(out, "sim:   %s: depth %llu, in flight %llu, sent %llu, repeats %llu, acknowledged %llu\n",
			st.banks[i].name, (unsigned long long)st.banks[i].depth, (unsigned long long)st.banks[i].in_flight,
			(unsigned long long)st.banks[i].sent, (unsigned long long)st.banks[i].repeats,
			(unsigned long long)st.banks[i].acknowledged);
}
