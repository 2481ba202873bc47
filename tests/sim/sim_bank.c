#include "sim_bank.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_population.h"
#include "clock_source.h"
#include "pan_vault.h"

#define SIM_WRITER_QUEUE 65536 /* the stepped writer refuses beyond: never reached at the simulated rates */

static void free_memory(struct sim_bank *b)
{
	if (b->gc)
		group_commit_abandon(b->gc);
	b->gc = NULL;
	bank_core_free(&b->writer.core);
	memset(&b->writer, 0, sizeof(b->writer));
	free(b->io);
	free(b->writer_sender);
	free(b->io_sender);
	free(b->stats);
	b->io = NULL;
	b->writer_sender = b->io_sender = NULL;
	b->stats = NULL;
	if (b->vault) {
		store_close(&b->store);
		pan_vault_free(b->vault);
	}
	b->vault = NULL;
	b->committing = false;
}

bool sim_bank_start(struct sim_bank *b, char *err, size_t err_size)
{
	const struct cfg_bank *bank = b->bank;
	b->vault = pan_vault_load(bank->pan_key_file, err, err_size);
	if (!b->vault)
		return false;
	if (store_open(&b->store, bank->lmdb_path, bank->lmdb_map_size, DURABILITY_SYNC, b->vault, err, err_size)) {
		pan_vault_free(b->vault);
		b->vault = NULL;
		return false;
	}
	struct population_result pop;
	int rc = bank_population_create(&b->store, b->cfg, bank, &pop);
	b->stats = calloc(1, sizeof(*b->stats));
	b->writer_sender = malloc(sizeof(*b->writer_sender));
	b->io_sender = malloc(sizeof(*b->io_sender));
	b->io = calloc(1, sizeof(*b->io));
	if (rc || !b->stats || !b->writer_sender || !b->io_sender || !b->io) {
		snprintf(err, err_size, "bank %s: population or memory: %s", bank->name, rc ? store_strerror(rc) : "out of memory");
		free_memory(b);
		return false;
	}
	reply_sender_init(b->writer_sender, NULL, b->stats);
	reply_sender_init(b->io_sender, NULL, b->stats);
	reply_sender_route_dgram(b->writer_sender, &b->node->port, 0);
	reply_sender_route_dgram(b->io_sender, &b->node->port, 0);

	struct bank_rules rules = {
		.max_amount = bank->fraud.max_amount,
		.max_approvals_per_minute = bank->fraud.max_approvals_per_minute,
	};
	memcpy(rules.currency, b->cfg->loadgen.currency, sizeof(rules.currency));
	memset(&b->writer, 0, sizeof(b->writer));
	if (!bank_core_init(&b->writer.core, &b->store, &rules, pop.cards_total + 1024)) {
		snprintf(err, err_size, "bank %s: out of memory", bank->name);
		free_memory(b);
		return false;
	}
	bank_core_set_answer_budget(&b->writer.core, bank->answer_budget_ms);
	/* bank_node.c starts approval codes from the clock; the simulated one is deterministic. */
	b->writer.core.approval_seq = (uint32_t)(clock_realtime_s() % 1000000);
	b->writer.stats = b->stats;
	b->writer.profile = &iso_profile_ascii;
	b->writer.sender = b->writer_sender;

	b->io->writer = NULL;
	b->io->stats = b->stats;
	b->io->profile = &iso_profile_ascii;
	b->io->sender = b->io_sender;
	b->io->mac = NULL; /* links without MACs: the configuration's iso_mac.allow_unprotected */

	struct group_commit_config gcc = {
		.item_size = sizeof(struct bank_request),
		.queue_capacity = SIM_WRITER_QUEUE,
		.batch_max = bank->batch_max,
	};
	b->gc = group_commit_start_stepped(&b->store, &gcc, &bank_writer_ops, &b->writer, err, err_size);
	if (!b->gc) {
		free_memory(b);
		return false;
	}
	b->io->writer = b->gc;
	b->up = true;
	b->node->up = true;
	b->node->drop_tx = false;
	b->node->incarnation++;
	return true;
}

void sim_bank_crash(struct sim_bank *b)
{
	if (!b->up)
		return;
	b->up = false;
	b->crashes++;
	b->crash_after_next_commit = false; /* a death planned for this life dies with it */
	sim_net_node_down(b->node);
	free_memory(b);
}

bool sim_bank_busy(const struct sim_bank *b)
{
	return b->up && (b->committing || group_commit_queued(b->gc) > 0);
}

void sim_bank_step(struct sim_bank *b, uint64_t now_us)
{
	if (!b->up)
		return;
	struct sim_packet *p;
	bool got = false;
	while ((p = sim_net_take(b->node, 0)) != NULL) {
		bank_io_datagram(b->io, &p->from, p->data, p->length);
		free(p);
		got = true;
	}
	if (got)
		bank_io_flush(b->io);
	if (!b->committing && group_commit_queued(b->gc) > 0) {
		b->committing = true;
		b->commit_due_us = now_us + b->commit_latency_us;
	}
	if (b->committing && now_us >= b->commit_due_us) {
		bool crash = b->crash_after_next_commit;
		if (crash) {
			b->crash_after_next_commit = false;
			b->node->drop_tx = true; /* committed, then killed before the answers leave */
			sim_trace_line(b->trace, "fault: %s commits a batch and dies before answering", b->bank->name);
		}
		group_commit_step(b->gc);
		b->committing = false;
		b->commits++;
		if (crash)
			sim_bank_crash(b);
	}
}
