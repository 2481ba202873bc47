/*
 * The switch's store-and-forward thread: it owns the durable queue of
 * reversal advices (storage/saf_store.h) and its schedule (saf_queue.h), and
 * talks to the workers through SPSC rings only, so the fast path never waits
 * on a disk or a lock.
 *
 *   worker --advice(slot, record)--> forwarder: batched into one synchronous
 *                                     LMDB commit (group commit)
 *   worker <--stored(slot) / not stored(slot)-- forwarder, after the commit:
 *          only then does the worker answer its cardholder (911, or 1430 for a
 *          cardholder's reversal; 909 when the disk refused)
 *   worker <--transmit(frame, bank)-- forwarder: the 1420/1421 to send on the
 *          worker's own TX queue (the only way out on a DPDK port)
 *   worker --acknowledgement(1430)--> forwarder: the advice leaves the queue
 *          (and the disk, in the next commit) on action 400 or 914
 *
 * At start the queue is reloaded from disk and repeated as before; what is
 * unreadable, or names a bank the config no longer has, goes to the
 * exception queue. An advice is never dropped: it is acknowledged, or it
 * expires into the exception queue, which an operator lists.
 */
#ifndef SAF_FORWARDER_H
#define SAF_FORWARDER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "saf_queue.h"
#include "saf_store.h"

#define SAF_FRAME_MAX 512
#define SAF_MAX_WORKERS_RINGS 10 /* as many as the switch has workers (SWITCH_MAX_WORKERS) */

enum saf_reply_kind {
	SAF_REPLY_STORED = 1,     /* the advice of slot is on disk */
	SAF_REPLY_NOT_STORED = 2, /* the disk refused it: it is repeated from memory, the cardholder gets 909 */
	SAF_REPLY_TRANSMIT = 3,   /* send frame to `to` */
};

struct saf_reply {
	uint8_t kind; /* enum saf_reply_kind */
	uint32_t slot;
	struct sockaddr_in to;
	uint16_t length;
	uint8_t frame[SAF_FRAME_MAX];
};

/* Resolves a bank's name to its current ISO endpoint (the config's); false when the bank is unknown. */
typedef bool (*saf_bank_resolver)(void *ctx, const char *bank, struct sockaddr_in *out);

struct saf_forwarder_config {
	const char *dir;   /* <network lmdb_path>/saf */
	uint64_t map_size; /* LMDB address space */
	const char *pan_key_file; /* the network's pan_protection.key_file: advices' PANs are sealed on disk */
	struct saf_settings queue;
	uint16_t workers;
	saf_bank_resolver resolve;
	void *resolve_ctx;
	/* Called after replies were put in worker's ring (may be NULL): a sleeping worker wakes. */
	void (*replied)(void *ctx, uint16_t worker);
	void *replied_ctx;
};

struct saf_bank_stats {
	char name[SAF_BANK_NAME_MAX];
	uint64_t depth, in_flight, oldest_age_ms, sent, repeats, acknowledged, expired;
};

struct saf_stats {
	size_t bank_count;
	struct saf_bank_stats banks[SAF_MAX_BANKS];
	uint64_t queued;       /* in memory, all banks */
	uint64_t stored;       /* advices committed to disk since start */
	uint64_t loaded;       /* reloaded from disk at start */
	uint64_t unreadable;   /* moved to the exceptions at start */
	uint64_t unknown_bank; /* moved to the exceptions at start: bank gone from the config */
	uint64_t store_failures; /* commits the disk refused (each logged) */
	uint64_t not_durable;  /* advices kept in memory only because the disk refused them */
	uint64_t acknowledged, unmatched_acks, not_final_acks;
	uint64_t transmit_ring_full, reply_ring_full;
	bool healthy; /* the last commit succeeded */
};

struct saf_forwarder;
struct saf_reloaded_keys;

/* Opens the store, reloads the queue, makes the rings. NULL with the reason in err. */
struct saf_forwarder *saf_forwarder_create(const struct saf_forwarder_config *c, char *err, size_t err_size);
bool saf_forwarder_start(struct saf_forwarder *f, char *err, size_t err_size);
/* Commits what the workers handed in, then stops the thread (idempotent). */
void saf_forwarder_stop(struct saf_forwarder *f);
void saf_forwarder_destroy(struct saf_forwarder *f);

/*
 * One turn of the thread in the caller's thread at the caller's clock (tests
 * and simulations that step the workers; never beside a started thread).
 * Returns when the next turn is due (monotonic ms).
 */
uint64_t saf_forwarder_step(struct saf_forwarder *f, uint64_t now_ms);

/* ---- worker side: worker w is the only producer of its requests and the only consumer of its replies ---- */

/* Queues the advice of a pending slot; false when the ring is full (try again later). */
bool saf_submit_advice(struct saf_forwarder *f, uint16_t worker, uint32_t slot, const struct saf_record *r);
/* A bank's 1430: DE 56, 37, 41 and its action code. False when the ring is full. */
bool saf_submit_acknowledgement(struct saf_forwarder *f, uint16_t worker, const char *original, const char *rrn,
				const char *terminal, int action);
/* The oldest reply for worker, NULL when none; release it once handled. */
const struct saf_reply *saf_reply_peek(struct saf_forwarder *f, uint16_t worker);
void saf_reply_release(struct saf_forwarder *f, uint16_t worker);
/* False after a commit the disk refused, until one succeeds: new authorizations then get 909. */
bool saf_forwarder_healthy(const struct saf_forwarder *f);
/* The originals of the advices found on disk at start (saf_reloaded_keys.h); never changes after create. */
const struct saf_reloaded_keys *saf_forwarder_reloaded_keys(const struct saf_forwarder *f);

/* ---- control plane (any thread) ---- */

void saf_forwarder_stats(struct saf_forwarder *f, struct saf_stats *out);
int saf_forwarder_list_queued(struct saf_forwarder *f, size_t limit, saf_record_fn fn, void *ctx);
int saf_forwarder_list_exceptions(struct saf_forwarder *f, size_t limit, saf_exception_fn fn, void *ctx);
int saf_forwarder_counts(struct saf_forwarder *f, uint64_t *queued, uint64_t *exceptions);

#endif
