/* The bank's counters, shared by its threads (relaxed atomics), served as /stats. */
#ifndef BANK_STATS_H
#define BANK_STATS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bank_request.h"
#include "group_commit.h"
#include "latency_counts.h"

struct bank_stats {
	_Atomic uint64_t received;	     /* frames read off the wire */
	_Atomic uint64_t authorizations;     /* 1100 decided */
	_Atomic uint64_t approved;
	_Atomic uint64_t declined;
	_Atomic uint64_t duplicates;	     /* 1100 answered from the journal */
	_Atomic uint64_t reversals;	     /* 1420/1421 decided */
	_Atomic uint64_t reversals_credited;
	_Atomic uint64_t reversal_replays;
	_Atomic uint64_t reversals_of_refused;
	_Atomic uint64_t reversals_unknown;  /* 914, tombstone kept */
	_Atomic uint64_t reversals_by_keys_but_stan; /* original found under another STAN (DE 12, 32, 37, 41) */
	_Atomic uint64_t tombstone_declines; /* originals that came after their reversal */
	_Atomic uint64_t shed_over_budget;   /* 1100s answered 912 untouched: waited past the answer budget */
	_Atomic uint64_t malformed;	     /* datagrams or frames that failed framing, decoding or checks */
	_Atomic uint64_t malformed_answered; /* ... of which answered with 904 */
	_Atomic uint64_t ignored;	     /* responses and unreadable messages, dropped */
	_Atomic uint64_t dropped_by_fault;
	_Atomic uint64_t delayed_by_fault;
	_Atomic uint64_t delay_queue_full;   /* delays skipped: the timer queue was full */
	_Atomic uint64_t system_errors;      /* answered 909 after a storage failure */
	_Atomic uint64_t tx_dropped;	     /* datagrams the socket refused */
	_Atomic uint64_t source_refused;     /* ISO messages from no network's address: dropped */
	_Atomic uint64_t mac_refused;        /* MAC missing or wrong: 916 to requests, nothing else */
	_Atomic uint64_t by_action[1000];    /* answers per DE 39 */
	struct latency_counts decision;      /* datagram in to answer out, for /metrics */
};

static inline void stat_add(_Atomic uint64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

/* Counts a decided request by its action code and outcome. */
void bank_stats_count(struct bank_stats *s, const struct bank_request *req);
json_t *bank_stats_json(const struct bank_stats *s, const struct group_commit_stats *gc);

#endif
