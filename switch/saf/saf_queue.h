/*
 * The store-and-forward schedule in memory: which queued reversal advice goes
 * to which bank when. Pure logic over a clock the caller passes in (the
 * forwarder thread in production, a test's fake clock in tests); what is on
 * disk is storage/saf_store.h's business.
 *
 * Per bank, advices wait in the order they were queued. At most `window` of
 * them are out at the bank (sent, not yet acknowledged); each of those is
 * repeated (as 1421) after a back-off that doubles from first_retry_ms up to
 * max_retry_ms. So a dead bank sees only `window` advices, each ever more
 * rarely, and a queue of a hundred thousand waits its turn instead of being
 * fired at it. The bank's first acknowledgement opens the window again and
 * pulls every outstanding repeat forward; the queue then drains at no more
 * than drain_per_s advices a second (repeats included), so a bank that comes
 * back is not flooded. An advice older than retention_ms leaves the queue
 * through the expire callback, for the exception queue: never dropped.
 *
 * Invariant that keeps a pass cheap: a bank's advices that were sent at least
 * once form a prefix of its list (the oldest are sent first, and an
 * acknowledgement removes from anywhere), so a pass visits at most the window
 * plus what it sends.
 */
#ifndef SAF_QUEUE_H
#define SAF_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "saf_store.h"

#define SAF_MAX_BANKS 32

struct saf_settings {
	uint32_t first_retry_ms; /* back-off after the first send */
	uint32_t max_retry_ms;   /* the cap of the doubling */
	uint32_t window;         /* advices out at one bank at once */
	uint32_t drain_per_s;    /* sends (first and repeats) per bank and second */
	uint64_t retention_ms;   /* then the exception queue */
};

struct saf_entry {
	struct saf_record rec;
	uint64_t next_due_ms; /* monotonic: when it is (re)sent */
	uint32_t attempts;    /* sends so far; 0 = waiting for the window */
	uint32_t bank;        /* index in saf_queue.banks */
	uint64_t match_hash;
	struct saf_entry *prev, *next; /* the bank's list, oldest first */
	struct saf_entry *hash_next;   /* acknowledgement index chain */
};

/* Per bank: the list and what /stats shows of it. */
struct saf_bank_queue {
	char name[SAF_BANK_NAME_MAX];
	uint32_t ipv4; /* network byte order */
	uint16_t port; /* network byte order */
	struct saf_entry *head, *tail;
	uint64_t depth;     /* advices queued */
	uint64_t in_flight; /* of which sent at least once */
	uint64_t sent, repeats, acknowledged, expired;
	double tokens;
	uint64_t tokens_at_ms;
};

struct saf_queue {
	struct saf_settings settings;
	size_t bank_count;
	struct saf_bank_queue banks[SAF_MAX_BANKS];
	struct saf_entry **buckets;
	size_t bucket_mask;
	size_t entries;
};

/* Sends one advice: repeat is false for its first send (1420), true after (1421). */
typedef void (*saf_send_fn)(void *ctx, const struct saf_entry *e, bool repeat);
/* An advice past its retention, already out of the queue. */
typedef void (*saf_expire_fn)(void *ctx, const struct saf_record *r);

bool saf_queue_init(struct saf_queue *q, const struct saf_settings *settings);
void saf_queue_destroy(struct saf_queue *q);

/*
 * Queues a copy of r (durable already, or about to be), due at once.
 * False when out of memory or when a bank would be the SAF_MAX_BANKS+1st.
 */
bool saf_queue_add(struct saf_queue *q, const struct saf_record *r, uint64_t now_ms);

/*
 * A bank's 1430 for an advice, identified by DE 56 (the original as the bank
 * knows it: its STAN, local time and acquirer) and DE 37/41: removes it and
 * copies it to *out. False when no queued advice matches (a second 1430 for a
 * repeat, or forged). Not by the answer's source: over a TCP link the peer
 * the answer comes from need not be the endpoint the advice went to.
 */
bool saf_queue_acknowledge(struct saf_queue *q, const char *original, const char *rrn, const char *terminal,
			   uint64_t now_ms, struct saf_record *out);

/*
 * One pass at now: expires what is past retention, then sends what is due
 * within each bank's window and rate. Returns when the next pass is needed
 * (monotonic ms; UINT64_MAX when the queue is empty).
 */
uint64_t saf_queue_run(struct saf_queue *q, uint64_t now_ms, int64_t now_unix_ms, saf_send_fn send,
		       saf_expire_fn expire, void *ctx);

/* The oldest queued advice's age at now_unix_ms, 0 when the bank has none. */
uint64_t saf_bank_oldest_age_ms(const struct saf_bank_queue *b, int64_t now_unix_ms);

/* The back-off before repeat number `attempts` (1-based) of one advice. */
uint32_t saf_retry_delay_ms(const struct saf_settings *s, uint32_t attempts);

#endif
