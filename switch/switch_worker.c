#include "switch_worker.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datagram_frames.h"
#include "framing.h"
#include "idle_backoff.h"
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
	w->now_ms = monotonic_ms();
	uint32_t outcomes = core->settings.outcome_memory / core->worker_count;
	if (outcomes < 1024)
		outcomes = 1024;
	w->rx_buffers = malloc((size_t)UDP_BURST * RX_STRIDE);
	w->tx_buffers = malloc((size_t)UDP_BURST * TX_STRIDE);
	if (!w->rx_buffers || !w->tx_buffers || !pending_table_init(&w->pending, id, core->settings.pending_per_worker) ||
	    !timer_wheel_init(&w->wheel, core->settings.pending_per_worker, 4096, w->now_ms) ||
	    !outcome_memory_init(&w->outcomes, outcomes)) {
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
	free(w->rx_buffers);
	free(w->tx_buffers);
	free(w);
}

/* ---- authorizations ---- */

/*
 * Pending slots are reused oldest first (pending_table.h), so the slot an
 * authorization takes has not been touched for a long while: the worker
 * starts loading the slot a few authorizations ahead, with its timer.
 */
#define PENDING_PREFETCH_AHEAD 4

/* Always inlined: GCC takes a function that only loads and prefetches for pure, and drops calls to it. */
static inline __attribute__((always_inline)) void prefetch_pending(const struct switch_worker *w, uint32_t slot)
{
	if (slot == UINT32_MAX)
		return;
	const char *p = (const char *)&w->pending.slots[slot];
	for (size_t at = 0; at < sizeof(struct pending_txn); at += 64)
		__builtin_prefetch(p + at, 1);
	__builtin_prefetch(p + sizeof(struct pending_txn) - 1, 1);
	timer_wheel_prefetch(&w->wheel, slot);
}

void set_outcome(struct outcome *o, enum outcome_kind kind, const char *bank_stan, const struct sockaddr_in *bank)
{
	memset(o, 0, sizeof(*o));
	o->kind = (uint8_t)kind;
	if (bank_stan)
		memcpy(o->bank_stan, bank_stan, 7);
	if (bank)
		o->bank = *bank;
}

/* Records how a pending transaction ended, in place when its entry is still there. */
void settle(struct switch_worker *w, const struct pending_txn *p, enum outcome_kind kind,
		   const char *bank_stan, const struct sockaddr_in *bank)
{
	struct outcome *o = outcome_memory_at(&w->outcomes, p->outcome_index, &p->key);
	if (!o) {
		bool existed;
		o = outcome_memory_upsert(&w->outcomes, &p->key, &existed);
	}
	set_outcome(o, kind, bank_stan, bank);
}

static void on_authorization(struct switch_worker *w, const struct sockaddr_in *peer, const uint8_t *frame,
			     size_t length, const struct iso_msg *m, bool handed)
{
	struct txn_key key;
	if (!handed)
		COUNT(w, authorizations);
	if (!txn_key_of_request(m, &key)) {
		/* Without its key the cardholder's answer cannot be remembered, but it can be given. */
		COUNT(w, refused_by_checks);
		send_answer(w, peer, m, ACTION_FORMAT_ERROR);
		return;
	}
	/* One hash (a chain of multiplies) for the owner and the outcome memory. */
	uint64_t key_hash = txn_key_hash(&key);
	uint8_t owner = hash_owner(w, key_hash);
	if (owner != w->id) {
		hand_over(w, owner, peer, frame, length);
		return;
	}
	/* The key's index line loads while the checks run: they only read, so
	 * running them before the duplicate test changes nothing but the order. */
	uint32_t hash = (uint32_t)key_hash;
	outcome_memory_prefetch_hash(&w->outcomes, hash);
	struct network_check_context ctx = {
		.routes = rcu_cell_read(&w->core->routes),
		.cards = rcu_cell_read(&w->core->cards),
		.today_yymm = w->today_yymm,
		.major_industry_id = w->core->settings.major_industry_id,
	};
	struct check_verdict v = network_check_authorization(m, &ctx);
	bool existed;
	struct outcome *o = outcome_memory_upsert_hashed(&w->outcomes, &key, hash, &existed);
	if (existed && o->kind == OUTCOME_REVERSED_EARLY) {
		/* Its reversal overtook it and went to the bank under the cardholder's
		 * STAN, where it left a tombstone this 1100 would not meet under ours:
		 * refusing it here is what keeps a reversed payment from being debited. */
		COUNT(w, reversed_before_original);
		send_answer(w, peer, m, ACTION_DECLINED);
		set_outcome(o, OUTCOME_REFUSED, NULL, NULL);
		return;
	}
	if (existed) {
		/* A retransmission: while the original is at the bank its answer is
		 * on its way; once settled, it is told it is a duplicate. */
		COUNT(w, duplicates);
		if (o->kind != OUTCOME_PENDING)
			send_answer(w, peer, m, ACTION_DUPLICATE);
		return;
	}
	/* From here every path fills o. */
	if (v.action != ACTION_APPROVED) {
		COUNT(w, refused_by_checks);
		if (v.failure == CHECK_NO_ROUTE)
			COUNT(w, no_route);
		send_answer(w, peer, m, v.action);
		set_outcome(o, OUTCOME_REFUSED, NULL, NULL);
		return;
	}

	if (bank_is_down(&w->bank_health, &v.route.bank->iso, w->now_ms)) {
		COUNT(w, bank_unavailable);
		send_answer(w, peer, m, ACTION_ISSUER_UNAVAILABLE);
		set_outcome(o, OUTCOME_REFUSED, NULL, NULL);
		return;
	}
	uint32_t slot = pending_alloc(&w->pending);
	if (slot == UINT32_MAX) {
		COUNT(w, pending_full);
		send_answer(w, peer, m, ACTION_SYSTEM_MALFUNCTION);
		set_outcome(o, OUTCOME_REFUSED, NULL, NULL);
		return;
	}
	prefetch_pending(w, pending_upcoming(&w->pending, PENDING_PREFETCH_AHEAD));
	struct pending_txn *p = &w->pending.slots[slot];
	if (!pending_fields_capture(m, &p->f)) {
		pending_release(&w->pending, slot);
		COUNT(w, refused_by_checks);
		send_answer(w, peer, m, ACTION_FORMAT_ERROR);
		set_outcome(o, OUTCOME_REFUSED, NULL, NULL);
		return;
	}
	p->kind = PENDING_AUTHORIZATION;
	p->cardholder = *peer;
	p->bank = v.route.bank->iso;
	p->key = key;
	set_outcome(o, OUTCOME_PENDING, NULL, NULL);
	o->slot = slot;
	p->outcome_index = outcome_memory_index(&w->outcomes, o);
	char stan[7];
	pending_stan(w->id, slot, false, stan);
	relay_with_stan(w, &p->bank, frame, length, m, stan);
	timer_wheel_schedule(&w->wheel, slot, w->now_ms + w->core->settings.bank_timeout_ms);
	COUNT(w, forwarded);
}

static int action_of(const struct iso_msg *m)
{
	size_t n;
	const uint8_t *s = field_bytes(m, 39, &n);
	if (!s) {
		uint64_t v;
		if (!iso_field_u64(m, 39, &v) || m->fields[39].length != 3)
			return -1;
		return (int)v;
	}
	if (n != 3)
		return -1;
	unsigned d0 = s[0] - '0', d1 = s[1] - '0', d2 = s[2] - '0';
	if (d0 > 9 || d1 > 9 || d2 > 9)
		return -1;
	return (int)(d0 * 100 + d1 * 10 + d2);
}

static void on_authorization_answer(struct switch_worker *w, const uint8_t *frame, size_t length,
				    const struct iso_msg *m, const struct stan_owner *owner)
{
	uint32_t slot;
	struct pending_txn *p = pending_match_owned(&w->pending, m, owner, &slot);
	if (!p) {
		if (pending_is_late(&w->pending, m))
			COUNT(w, late_responses);
		else
			COUNT(w, unmatched_responses);
		return;
	}
	if (p->kind == PENDING_REVERSAL) {
		/* Timed out already (the cardholder has its 911, the reversal is under way). */
		COUNT(w, late_responses);
		return;
	}
	timer_wheel_cancel(&w->wheel, slot);
	bank_answered(&w->bank_health, &p->bank);
	int action = action_of(m);
	bool approved = action >= 0 && action < 100;
	char bank_stan[7];
	pending_stan(w->id, slot, false, bank_stan);

	if (p->cardholder_reversed) {
		/* The cardholder gave up and was told its reversal is accepted. */
		settle(w, p, OUTCOME_TIMED_OUT, NULL, NULL);
		if (approved) {
			COUNT(w, cancelled_approvals);
			start_reversal(w, slot);
		} else {
			COUNT(w, declined);
			pending_release(&w->pending, slot);
		}
		return;
	}
	relay_with_stan(w, &p->cardholder, frame, length, m, p->f.stan);
	if (approved) {
		COUNT(w, approved);
		settle(w, p, OUTCOME_APPROVED, bank_stan, &p->bank);
	} else {
		COUNT(w, declined);
		settle(w, p, OUTCOME_REFUSED, NULL, NULL);
	}
	pending_release(&w->pending, slot);
}

/* ---- dispatch ---- */

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
	switch (m.mti) {
	case 1100:
		on_authorization(w, peer, frame, length, &m, handed);
		return;
	case 1420:
	case 1421:
		on_cardholder_reversal(w, peer, frame, length, &m, handed);
		return;
	case 1110:
	case 1430: {
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
		if (m.mti == 1110)
			on_authorization_answer(w, frame, length, &m, &owner);
		else
			on_reversal_answer(w, &m);
		return;
	}
	default:
		COUNT(w, unsupported);
		if (iso_mti_is_request(m.mti) && iso_has(&m, 11))
			send_answer(w, peer, &m, ACTION_FORMAT_ERROR);
		return;
	}
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
	w->today_yymm = yymm_of_time((int64_t)time(NULL));
	w->next_date_ms = w->now_ms + 1000;
}

unsigned switch_worker_poll(struct switch_worker *w, uint64_t now_ms)
{
	unsigned work = 0;
	w->now_ms = now_ms;
	refresh_date(w);

	int n = dgram_rx_burst(w->core->port, w->id, w->rx, UDP_BURST);
	for (int i = 0; i < n; i++)
		handle_datagram(w, &w->rx[i]);
	if (n > 0)
		work += (unsigned)n;

	work += drain_handovers(w);

	uint32_t due[TIMERS_PER_POLL];
	size_t fired = timer_wheel_expire(&w->wheel, w->now_ms, due, TIMERS_PER_POLL);
	for (size_t i = 0; i < fired; i++)
		on_timer(w, due[i]);
	work += (unsigned)fired;

	flush_tx(w);
	return work;
}

void switch_worker_settle_at_stop(struct switch_worker *w)
{
	for (uint32_t slot = 0; slot < w->pending.capacity; slot++)
		if (w->pending.slots[slot].kind != PENDING_FREE)
			on_timer(w, slot);
	flush_tx(w);
}

void *switch_worker_main(void *arg)
{
	struct switch_worker *w = arg;
	struct idle_backoff backoff;
	idle_backoff_init(&backoff);
	rcu_register_thread();
	while (!atomic_load_explicit(&w->core->stop, memory_order_relaxed)) {
		unsigned work = switch_worker_poll(w, monotonic_ms());
		/* Nothing read under RCU survives this point. */
		rcu_quiescent_state();
		if (work) {
			idle_backoff_reset(&backoff);
			continue;
		}
		uint64_t ns = idle_backoff_next(&backoff);
		if (ns) {
			rcu_thread_offline();
			dgram_wait(w->core->port, w->id, (int)(ns / 1000));
			rcu_thread_online();
		}
	}
	switch_worker_settle_at_stop(w);
	rcu_unregister_thread();
	return NULL;
}
