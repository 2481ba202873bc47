/*
 * The worker's poll loop (switch_worker.h) and its dispatch of each message
 * by MTI. The message paths: authorization.c, reversal.c, worker_timers.c
 * (worker_internal.h); transmit: switch_tx.h; ownership and hand-over:
 * worker_ownership.h; bank health: bank_health.h.
 */
#include "switch_worker.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock_source.h"
#include "datagram_frames.h"
#include "idle_wait.h"
#include "mti.h"
#include "network_checks.h"
#include "rcu_cell.h"
#include "spsc_ring.h"
#include "switch_fields.h"
#include "switch_messages.h"
#include "switch_tx.h"
#include "worker_internal.h"
#include "worker_ownership.h"

#define TIMERS_PER_POLL 64
#define HANDOVERS_PER_POLL 64

/*
 * A burst's buffers sit one stride apart. Strides that are multiples of 4 KiB
 * (the 64 KiB receive buffers) put the first lines of all 32 datagrams in the
 * same cache sets, where they evict each other between the port's copy and the
 * decode; an odd number of extra lines gives every buffer its own sets.
 */
#define CACHE_LINE 64
#define RX_STRIDE (SWITCH_RX_BUFFER + 5 * CACHE_LINE)
#define TX_STRIDE ((SWITCH_TX_BUFFER + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE + 6 * CACHE_LINE)

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct switch_worker *switch_worker_create(struct switch_core *core, uint8_t id)
{
	struct switch_worker *w = aligned_alloc(64, sizeof(*w));
	if (!w)
		return NULL;
	memset(w, 0, sizeof(*w));
	w->core = core;
	w->id = id;
	w->now_ms = clock_monotonic_ms(); /* clock_source.h: a simulation's clock from the start */
	uint32_t outcomes = core->settings.outcome_memory / core->worker_count;
	if (outcomes < 1024)
		outcomes = 1024;
	w->rx_buffers = malloc((size_t)UDP_BURST * RX_STRIDE);
	w->tx_buffers = malloc((size_t)UDP_BURST * TX_STRIDE);
	if (!w->rx_buffers || !w->tx_buffers || !pending_table_init(&w->pending, id, core->settings.pending_per_worker) ||
	    !timer_wheel_init(&w->wheel, core->settings.pending_per_worker, 4096, w->now_ms) ||
	    !outcome_memory_init(&w->outcomes, outcomes) || !iso_mac_view_init(&w->mac, &core->mac_keys)) {
		switch_worker_destroy(w);
		return NULL;
	}
	char why[256];
	if (idle_wait_init(&w->idle, why, sizeof(why)) != 0) {
		switch_worker_destroy(w);
		return NULL;
	}
	w->idle_open = true;
	if (idle_wait_add_port(&w->idle, core->port, id, why, sizeof(why)) != 0) {
		switch_worker_destroy(w);
		return NULL;
	}
	for (int i = 0; i < UDP_BURST; i++) {
		w->rx[i].data = w->rx_buffers + (size_t)i * RX_STRIDE;
		w->rx[i].capacity = SWITCH_RX_BUFFER;
		w->tx[i].data = w->tx_buffers + (size_t)i * TX_STRIDE;
		w->tx[i].capacity = SWITCH_TX_BUFFER;
	}
	return w;
}

void switch_worker_destroy(struct switch_worker *w)
{
	if (!w)
		return;
	pending_table_destroy(&w->pending);
	timer_wheel_destroy(&w->wheel);
	outcome_memory_destroy(&w->outcomes);
	iso_mac_view_destroy(&w->mac);
	if (w->idle_open)
		idle_wait_destroy(&w->idle);
	free(w->rx_buffers);
	free(w->tx_buffers);
	free(w);
}

/* ---- dispatch ---- */

/*
 * What the worker does with each message type it serves: a request (from a
 * cardholder), or a bank's answer, which goes first to the worker its STAN
 * names (the switch gave it). A new message type is one line; the table is
 * searched in order, the fast path's two first.
 */
struct mti_handler {
	uint16_t mti;
	request_handler *request;
	answer_handler *answer;
};

static const struct mti_handler mti_handlers[] = {
	{1100, .request = on_authorization},
	{1110, .answer = on_authorization_answer},
	{1420, .request = on_cardholder_reversal},
	{1421, .request = on_cardholder_reversal},
	/* A repeat is the same transaction: the same memory here, and if it is
	 * forgotten (a restart), the bank finds its original by DE 12/32/37/41. */
	{1101, .request = on_authorization},
	{1430, .request = on_reversal_answer}, /* to the store-and-forward queue, from any worker */
};

static const struct mti_handler *handler_of(uint16_t mti)
{
	for (size_t i = 0; i < sizeof(mti_handlers) / sizeof(mti_handlers[0]); i++)
		if (mti_handlers[i].mti == mti)
			return &mti_handlers[i];
	return NULL;
}

static void handle_message(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame,
			   size_t length, bool handed)
{
	struct iso_msg m;
	struct iso_error e;
	if (!handed)
		COUNT(w, received);
	if (iso_decode(SWITCH_PROFILE, frame, length, &m, &e) != ISO_OK) {
		COUNT(w, malformed);
		/* Answer 904 when the cardholder could still match the answer. */
		uint8_t scratch[ISO_MAX_MESSAGE];
		if (switch_decode_readable_prefix(frame, length, &e, scratch, sizeof(scratch), &m) &&
		    iso_mti_is_request(m.mti) && iso_has(&m, 11) && iso_has(&m, 37) && iso_has(&m, 41))
			send_answer(w, peer, &m, ACTION_FORMAT_ERROR);
		return;
	}
	if (!handed) {
		/* The receiving worker checks the MAC; one that gets the message handed over trusts it. */
		int link = switch_mac_link_of(w->core, peer);
		if (__builtin_expect(!iso_mac_accepted(iso_mac_view_check(&w->mac, link, &m, frame, length)), 0)) {
			COUNT(w, mac_refused);
			/* Nothing changes: a request hears 916, an answer is dropped (its transaction times out). */
			if (iso_mti_is_request(m.mti) && iso_has(&m, 11))
				send_answer(w, peer, &m, ACTION_MAC_INCORRECT);
			return;
		}
	}
	const struct mti_handler *handler = handler_of(m.mti);
	if (!handler) {
		COUNT(w, unsupported);
		if (iso_mti_is_request(m.mti) && iso_has(&m, 11))
			send_answer(w, peer, &m, ACTION_FORMAT_ERROR);
		return;
	}
	if (handler->request) {
		/* Requests, and the answers not routed by the STAN the switch gave (1430s). */
		handler->request(w, peer, frame, length, &m, handed);
		return;
	}
	char stan[7];
	struct stan_owner owner;
	if (field_text(&m, 11, stan, sizeof(stan)) != 6 || !pending_stan_parse(stan, 6, &owner) ||
	    owner.worker >= w->core->worker_count) {
		COUNT(w, unmatched_responses);
		return;
	}
	if (owner.worker != w->id) {
		hand_over(w, owner.worker, peer, frame, length);
		return;
	}
	handler->answer(w, frame, length, &m, &owner);
}

/* A datagram either splits into whole frames or is dropped entire (docs/protocol.md). */
static void handle_datagram(struct switch_worker *w, const struct udp_datagram *d)
{
	if (d->length == 0) {
		/* Empty, or cut by the port because it did not fit its buffer. */
		COUNT(w, malformed);
		return;
	}
	struct datagram_frames frames;
	if (!datagram_frames_open(&frames, d->data, d->length)) {
		COUNT(w, malformed);
		return;
	}
	const uint8_t *msg;
	size_t msg_len;
	w->rx_arrival_ns = d->rx_realtime_ns;
	while (datagram_frames_next(&frames, &msg, &msg_len))
		handle_message(w, &d->peer, msg, msg_len, false);
}

static unsigned drain_handovers(struct switch_worker *w)
{
	unsigned work = 0;
	for (uint16_t from = 0; from < w->core->worker_count; from++) {
		struct spsc_ring *ring = w->core->rings[from][w->id];
		if (!ring)
			continue;
		const struct handover_msg *h;
		for (int i = 0; i < HANDOVERS_PER_POLL && (h = spsc_ring_peek(ring)) != NULL; i++) {
			w->rx_arrival_ns = h->rx_arrival_ns;
			handle_message(w, &h->peer, h->data, h->length, true);
			spsc_ring_release(ring);
			work++;
		}
	}
	return work;
}

static void refresh_date(struct switch_worker *w)
{
	if (w->now_ms < w->next_date_ms)
		return;
	w->today_yymm = yymm_of_time(clock_realtime_s()); /* clock_source.h: a simulation's date too */
	w->next_date_ms = w->now_ms + 1000;
}

unsigned switch_worker_poll(struct switch_worker *w, uint64_t now_ms)
{
	unsigned work = 0;
	w->now_ms = now_ms;
	w->realtime_now_ns = 0;
	refresh_date(w);
	iso_mac_view_refresh(&w->mac); /* one atomic load unless the keys were reloaded */

	int n = dgram_rx_burst(w->core->port, w->id, w->rx, UDP_BURST);
	for (int i = 0; i < n; i++)
		handle_datagram(w, &w->rx[i]);
	if (n > 0)
		work += (unsigned)n;

	work += drain_handovers(w);
	drain_saf_replies(w, &work);

	uint32_t due[TIMERS_PER_POLL];
	size_t fired = timer_wheel_expire(&w->wheel, w->now_ms, due, TIMERS_PER_POLL);
	for (size_t i = 0; i < fired; i++)
		on_timer(w, due[i]);
	work += (unsigned)fired;

	flush_tx(w);
	return work;
}

/* How long a stopping worker waits for the disk to take its last advices. */
#define SETTLE_WAIT_MS 5000

void switch_worker_settle_at_stop(struct switch_worker *w)
{
	/* Every authorization still at a bank is reversed like a timeout: its advice
	 * goes to disk (the forwarder runs until the workers are gone), then its
	 * cardholder hears 911. */
	for (uint32_t slot = 0; slot < w->pending.capacity; slot++)
		if (w->pending.slots[slot].kind == PENDING_AUTHORIZATION ||
		    (w->pending.slots[slot].kind == PENDING_ADVICE && !w->pending.slots[slot].advice_submitted))
			on_timer(w, slot);
	uint64_t until = monotonic_ms() + SETTLE_WAIT_MS;
	for (;;) {
		unsigned work = 0;
		drain_saf_replies(w, &work);
		flush_tx(w);
		bool waiting = false;
		for (uint32_t slot = 0; slot < w->pending.capacity; slot++) {
			struct pending_txn *p = &w->pending.slots[slot];
			if (p->kind == PENDING_ADVICE && !p->advice_submitted) {
				w->now_ms = monotonic_ms();
				submit_advice(w, slot);
			}
			waiting = waiting || p->kind == PENDING_ADVICE;
		}
		if (!waiting || monotonic_ms() >= until)
			break;
		if (!work) {
			struct timespec pause = {0, 1000000};
			nanosleep(&pause, NULL);
		}
	}
}

/* Asked after the worker announced its sleep: work already in a ring the kickers feed? */
static bool rings_hold_work(void *ctx)
{
	struct switch_worker *w = ctx;
	for (uint16_t from = 0; from < w->core->worker_count; from++) {
		struct spsc_ring *ring = w->core->rings[from][w->id];
		if (ring && spsc_ring_peek(ring))
			return true;
	}
	return saf_reply_peek(w->core->saf, w->id) != NULL;
}

/* How long an idle worker may sleep: until its next timer (bank timeouts, advice repeats). */
static uint64_t sleep_budget_ns(struct switch_worker *w)
{
	uint64_t due = timer_wheel_next_deadline(&w->wheel, w->now_ms, IDLE_WAIT_LONGEST_NS / 1000000u);
	if (due == TIMER_WHEEL_NOTHING_DUE)
		return IDLE_WAIT_FOREVER;
	/* The wheel ticks in ms of monotonic_ms(): wake when that clock reaches due. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	uint64_t due_ns = due * 1000000u;
	return due_ns > now_ns ? due_ns - now_ns : 0;
}

void *switch_worker_main(void *arg)
{
	struct switch_worker *w = arg;
	rcu_register_thread();
	while (!atomic_load_explicit(&w->core->stop, memory_order_relaxed)) {
		unsigned work = switch_worker_poll(w, monotonic_ms());
		/* Nothing read under RCU survives this point. */
		rcu_quiescent_state();
		if (work) {
			idle_wait_busy(&w->idle);
			continue;
		}
		/* Busy-polls for a while under load; then sleeps on the port, the rings and the next timer. */
		if (idle_wait_spin(&w->idle))
			continue;
		rcu_thread_offline();
		idle_wait_sleep(&w->idle, sleep_budget_ns(w), rings_hold_work, w);
		rcu_thread_online();
	}
	switch_worker_settle_at_stop(w);
	rcu_unregister_thread();
	return NULL;
}
