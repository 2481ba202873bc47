/*
 * One generator thread: its own queue of the datagram port, its own terminals,
 * its own share of the planned rate. It sends every 1100 at (or as soon as
 * possible after) its intended time, matches 1110/1430 answers to what it
 * sent, reverses what times out, and records latency from the intended send
 * time. Everything it owns is touched by it alone, except the few counters
 * and the per-second interval slots it publishes to the run's main thread.
 */
#ifndef LOADGEN_WORKER_H
#define LOADGEN_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "arrival_schedule.h"
#include "dgram_port.h"
#include "latency_histogram.h"
#include "loadgen_cards.h"
#include "iso_mac_keys.h"
#include "loadgen_messages.h"
#include "loadgen_plan.h"
#include "loadgen_random.h"

#define LOADGEN_HISTOGRAM_HIGHEST (1ull << 36) /* ns: about 68 s */
#define LOADGEN_HISTOGRAM_DIGITS 3
#define LOADGEN_INTERVAL_RING 16
#define LOADGEN_DATAGRAM_BYTES 1472 /* one Ethernet MTU of UDP payload: fits the DPDK path too */
#define LOADGEN_ACTION_CODES 1000

/* Outcome counters of a thread, and of the whole run once merged. */
struct loadgen_counts {
	uint64_t sent;               /* 1100 handed to the port */
	uint64_t unsent_behind;      /* planned but not sent: the generator fell more than its timeout behind */
	uint64_t unsent_tx_refused;  /* the port refused the datagram (socket buffer full) */
	uint64_t unsent_table_full;  /* no free slot to track the request */
	uint64_t not_sent_link_congested; /* declined locally: max_outstanding awaited answers already */
	uint64_t encode_errors;
	uint64_t answered;           /* 1110 within the timeout */
	uint64_t by_code[LOADGEN_ACTION_CODES];
	uint64_t approved_amount;    /* sum of amounts answered 000 within the timeout */
	uint64_t timeouts;           /* no 1110 within the timeout: reversal sent */
	uint64_t reversals_sent;
	uint64_t reversal_repeats;   /* 1421 sent after an unanswered 1420 or 1421 */
	uint64_t reversals_tx_refused;
	uint64_t reversals_answered;
	uint64_t reversal_by_code[LOADGEN_ACTION_CODES];
	uint64_t reversals_unanswered; /* no 1430 after every attempt */
	uint64_t late_answers;       /* 1110 after its timeout (already reversed) */
	uint64_t late_approved;      /* ... of which 000 */
	uint64_t late_reversal_answers; /* 1430 after the reversal's own timeout */
	uint64_t late_reversal_accepted; /* ... of which 400 */
	uint64_t extra_reversal_answers; /* 1430s to the other attempts of an answered reversal */
	uint64_t reversal_unsettled_answers; /* 1430s saying "not now" (909, 912, ...): the reversal is repeated */
	uint64_t duplicates;
	uint64_t unmatched;          /* answers to nothing we have in flight */
	uint64_t malformed;          /* frames or datagrams that do not decode */
	uint64_t unexpected_mti;
	uint64_t mac_refused;        /* answers with a missing or wrong MAC: ignored (the request times out) */
	uint64_t rx_datagrams, tx_datagrams;
};

void loadgen_counts_add(struct loadgen_counts *dst, const struct loadgen_counts *src);

/* What every worker reads and nobody writes once the run starts. */
struct loadgen_shared {
	const struct loadgen_cards *cards;
	struct purchase_context context;
	struct loadgen_plan plan;
	uint64_t min_amount, max_amount;
	unsigned threads;
	unsigned terminals_per_thread;
	unsigned batch;
	unsigned spin_polls;
	unsigned reversal_attempts;
	uint64_t max_outstanding; /* 0: no limit (loadgen_options.h) */
	uint64_t seed;
	struct dgram_port *port;
	bool rx_stamps;         /* the port stamps arrivals (kernel sockets): answers may wait for the next send */
	FILE *outcomes;         /* --outcomes: a line per settled request, or NULL */
	uint64_t start_ns;      /* tsc_now_ns() of intended time 0 */
	int64_t start_unix_ns;  /* wall clock at start_ns (DE 7 and DE 12) */
	atomic_bool stop;       /* SIGINT/SIGTERM: send no more, settle what is in flight */
	struct iso_mac_keyring *mac_keys; /* link i = acquirer:<networks[i]> (ecosystem_mac.h) */
};

/* One second (or the final part of one) of a worker's traffic. */
struct loadgen_interval {
	uint64_t second; /* seconds since the run started */
	uint64_t sent, answered, timeouts;
	struct latency_histogram latency;
};

struct pending_entry;

struct loadgen_worker {
	unsigned index;
	struct iso_mac_view mac; /* this worker's keyed contexts: signs requests, checks answers */
	struct loadgen_shared *shared;
	uint64_t quota; /* most 1100 this thread sends */

	struct arrival_schedule schedule;
	struct loadgen_random random;
	struct pending_entry *pending;
	uint64_t pending_mask;
	uint64_t next_sequence, timeout_cursor;
	uint64_t reversal_cursor[LOADGEN_MAX_REVERSAL_ATTEMPTS]; /* one per attempt: deadlines ordered within each */
	uint64_t outstanding; /* entries awaiting a 1110 or a 1430 */
	uint64_t next_expiry_ns; /* the earliest deadline expire() stopped at (UINT64_MAX: none) */
	uint64_t next_intended_ns;
	bool sending_done;
	uint32_t *terminal_stan;
	unsigned next_terminal;

	struct latency_histogram latency;
	struct latency_histogram send_lag; /* actual minus intended send time: the generator's own delay */
	struct loadgen_counts counts;
	uint64_t last_send_ns;
	uint64_t last_answer_ns;

	/* The current second, published into the ring when it is over. */
	struct loadgen_interval current;
	struct loadgen_interval ring[LOADGEN_INTERVAL_RING];
	atomic_uint_fast64_t published; /* intervals written to the ring */
	atomic_uint_fast64_t consumed;  /* intervals the main thread has read */
	atomic_bool finished;
	uint64_t interval_overruns;     /* seconds merged into the next because the ring was full */
	atomic_uint_fast64_t live_sent, live_answered;

	/* Datagram buffers. */
	uint8_t *tx_memory;
	struct udp_datagram tx[UDP_BURST];
	uint64_t tx_tags[UDP_BURST][64]; /* sequence numbers in each datagram, top bit = reversal */
	unsigned tx_frames[UDP_BURST];
	int tx_count;
	int open_datagram[CFG_MAX_NETWORKS]; /* per network: datagram still taking frames, or -1 */
	uint8_t *rx_memory;
	struct udp_datagram rx[UDP_BURST];

	/* DE 7 / DE 12 for the current wall-clock second. */
	int64_t cached_unix_second;
	char cached_transmission[11];
	char cached_local_time[13];

	pthread_t thread;
	char error[160];
};

/* Allocates everything the thread needs; false with a reason in w->error. */
bool loadgen_worker_init(struct loadgen_worker *w, struct loadgen_shared *shared, unsigned index, uint64_t quota);
void loadgen_worker_free(struct loadgen_worker *w);
/* The thread body (pthread start routine, argument a struct loadgen_worker *). */
void *loadgen_worker_main(void *arg);

#endif
