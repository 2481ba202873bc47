/*
 * One switch worker ("lcore"): polls its own RX queue in bursts, processes
 * every message to completion, sends on its own TX queue, runs its timer
 * wheel, drains the messages other workers handed over to it, and backs off
 * when idle. Everything it touches per message is its own or RCU-read.
 */
#ifndef SWITCH_WORKER_H
#define SWITCH_WORKER_H

#include <stdalign.h>
#include <stdint.h>

#include "bank_health.h"
#include "idle_wait.h"
#include "iso8583.h"
#include "outcome_memory.h"
#include "pending_table.h"
#include "switch_core.h"
#include "timer_wheel.h"
#include "udp_port.h"

#define SWITCH_RX_BUFFER 65536
#define SWITCH_TX_BUFFER (ISO_MAX_MESSAGE + 2)
/* Frames for one peer share a datagram up to one Ethernet MTU of payload (no IP fragments on DPDK). */
#define SWITCH_TX_PACK_MAX 1472
_Static_assert(SWITCH_TX_PACK_MAX <= SWITCH_TX_BUFFER, "a packed datagram must fit its transmit buffer");
#define SWITCH_HANDOVER_RING 512
#define SWITCH_HANDOVER_BYTES 1024 /* a longer message cannot change worker (counted handover_dropped) */

/* A message handed from the worker that received it to the one that owns it. */
struct handover_msg {
	struct sockaddr_in peer;
	uint64_t rx_arrival_ns; /* the receiving worker's rx_arrival_ns for it */
	uint16_t length;
	uint8_t data[SWITCH_HANDOVER_BYTES];
};

struct switch_worker {
	alignas(64) struct switch_counters counters;
	alignas(64) struct switch_core *core;
	uint8_t id;
	uint64_t now_ms;
	uint64_t next_date_ms;
	unsigned today_yymm;
	struct pending_table pending;
	struct timer_wheel wheel;
	struct outcome_memory outcomes;
	struct bank_health_table bank_health;
	struct udp_datagram rx[UDP_BURST];
	uint8_t *rx_buffers;
	struct udp_datagram tx[UDP_BURST];
	uint16_t tx_frames[UDP_BURST]; /* frames packed in each pending datagram */
	int tx_count;
	uint8_t *tx_buffers;
	struct iso_mac_view mac; /* this worker's keyed MAC contexts (switch_core.h: mac_keys) */
	/* The message being handled: its arrival stamp (TCP edge; 0 = none, stale_shedding.h), and
	 * the wall clock read at most once per poll, the first time a stamp is judged. */
	uint64_t rx_arrival_ns;
	uint64_t realtime_now_ns;
	/* Where the worker sleeps when idle: its port queue, its rings' kicks, its next timer. */
	struct idle_wait idle;
	bool idle_open;
};

struct switch_worker *switch_worker_create(struct switch_core *core, uint8_t id);
void switch_worker_destroy(struct switch_worker *w);
/* Thread entry: runs until core->stop. */
void *switch_worker_main(void *worker);

/*
 * One poll-loop iteration without the idle back-off (tests drive workers
 * step by step with it). The calling thread must be an online RCU reader.
 * Returns the amount of work done.
 */
unsigned switch_worker_poll(struct switch_worker *w, uint64_t now_ms);

/* Any thread, after putting work in one of w's rings (hand-over, store-and-forward replies):
 * wakes w if it sleeps. */
static inline void switch_worker_wake(struct switch_worker *w)
{
	if (w->idle_open)
		idle_wake_kick(&w->idle.wake);
}

/*
 * At shutdown, settles what is still pending as its timer would: cardholders
 * waiting for a bank get 911 and the bank a 1420; reversals in progress get
 * one more 1421. Called by the worker thread when it stops.
 */
void switch_worker_settle_at_stop(struct switch_worker *w);

#endif
