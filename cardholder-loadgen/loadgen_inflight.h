/*
 * The requests a generator thread has in flight, and how they are tagged in
 * the datagrams it builds. Private to the worker's files.
 */
#ifndef LOADGEN_INFLIGHT_H
#define LOADGEN_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "loadgen_worker.h"

enum pending_state {
	PENDING_FREE = 0,
	PENDING_AWAIT_ANSWER,   /* 1100 sent, 1110 due before the deadline */
	PENDING_ANSWERED,       /* 1110 came in time */
	PENDING_AWAIT_REVERSAL, /* timed out, 1420 (or 1421) sent, 1430 due before the deadline */
	PENDING_REVERSED,       /* 1430 came */
	PENDING_REVERSAL_LOST,  /* no 1430 in time either */
	PENDING_NOT_SENT,       /* the port refused it */
};

/*
 * A request in flight, in a ring indexed by sequence number. Sequences are
 * handed out in send order and every deadline is "send time + timeout", so
 * deadlines are ordered by sequence (within each reversal attempt too): the
 * timeout scans are cursors that only move forward, with no timer structure.
 */
struct pending_entry {
	uint64_t sequence;
	uint64_t intended_ns; /* from the run start */
	uint64_t deadline_ns; /* absolute tsc ns: answer deadline, then reversal deadline */
	uint64_t amount;
	int64_t unix_second;  /* of the 1100's DE 12 */
	uint32_t card;
	uint32_t stan;
	uint32_t reversal_stan;
	uint32_t terminal;
	int64_t reversal_unix_second; /* DE 12 of the 1420, kept by its repeats */
	uint8_t reversal_attempts;    /* 1420 and 1421 sent so far */
	uint8_t state;
	bool late_seen;
};

#define REVERSAL_TAG (1ull << 63)
#define REPEAT_TAG (1ull << 62)

/* Frame tags in a datagram: the sequence number, and what the frame is. */
#define REVERSAL_TAG (1ull << 63)
#define REPEAT_TAG (1ull << 62)

static inline struct pending_entry *entry_of(struct loadgen_worker *w, uint64_t sequence)
{
	return &w->pending[sequence & w->pending_mask];
}

#endif
