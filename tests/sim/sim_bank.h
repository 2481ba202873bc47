/*
 * A bank node inside the simulation: the real I/O path (bank_io_datagram:
 * frames, decode, parse, checks), the real group-commit writer stepped by the
 * simulator (group_commit_step: bank_core decisions in one LMDB transaction,
 * then the answers), on a real LMDB environment in the run's directory.
 * The simulated disk decides when a batch commits (slow-disk faults), and a
 * crash drops everything in memory (queued requests, velocity counters, the
 * answers of a batch that just committed) and reopens the environment as
 * after SIGKILL.
 */
#ifndef SIM_BANK_H
#define SIM_BANK_H

#include <stdbool.h>
#include <stdint.h>

#include "bank_io.h"
#include "bank_writer.h"
#include "ecosystem_config.h"
#include "sim_net.h"

struct pan_vault;

struct sim_bank {
	const struct ecosystem_config *cfg;
	const struct cfg_bank *bank;
	struct sim_node *node;
	struct sim_trace *trace;
	bool up;
	/* the process's memory, gone at a crash */
	struct pan_vault *vault;
	struct store store;
	struct bank_stats *stats;
	struct reply_sender *writer_sender, *io_sender;
	struct bank_io *io;
	struct bank_writer writer;
	struct group_commit *gc;
	/* the simulated disk */
	bool committing;
	uint64_t commit_due_us;
	uint32_t commit_latency_us;   /* per batch, now */
	bool crash_after_next_commit; /* its answers are lost with it */
	uint64_t commits, crashes;
};

bool sim_bank_start(struct sim_bank *b, char *err, size_t err_size);
/* One step at now: reads the node's queue into the writer, commits when the disk is done. */
void sim_bank_step(struct sim_bank *b, uint64_t now_us);
/* SIGKILL: memory gone, LMDB closed as the kernel would. */
void sim_bank_crash(struct sim_bank *b);
/* Requests the writer holds or the disk is committing (the drain waits for none). */
bool sim_bank_busy(const struct sim_bank *b);

#endif
