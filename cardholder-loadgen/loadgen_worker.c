#include "loadgen_worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idle_wait.h"
#include "loadgen_answers.h"
#include "loadgen_inflight.h"
#include "loadgen_outcomes.h"
#include "loadgen_tx.h"
#include "tsc_clock.h"

#define SEND_ROUND_MAX 512 /* requests per loop turn, so that answers are read in between */
#define EXPIRE_ROUND_MAX 4096 /* reversals per loop turn, likewise */
/* A sleep ends this long before the next planned send, which is then spun for: a timeout's
 * wake-up is late by a few microseconds, and a send's lateness is latency the report shows. */
#define IDLE_SPIN_MARGIN_NS 2000
/* With arrival stamps, answers wait in the socket for the next send's wake-up, at most this
 * long: one wake-up per request instead of two, and the latency still counts from arrival. */
#define ANSWER_WAIT_MAX_NS 5000000u

_Static_assert(sizeof(struct loadgen_counts) % sizeof(uint64_t) == 0, "loadgen_counts holds only uint64_t counters");

void loadgen_counts_add(struct loadgen_counts *dst, const struct loadgen_counts *src)
{
	/* Every member is a uint64_t counter: add them as an array. */
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;
	for (size_t i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] += s[i];
}

static uint64_t next_power_of_two(uint64_t v)
{
	uint64_t p = 1;
	while (p < v)
		p <<= 1;
	return p;
}

bool loadgen_worker_init(struct loadgen_worker *w, struct loadgen_shared *shared, unsigned index, uint64_t quota)
{
	memset(w, 0, sizeof(*w));
	w->index = index;
	w->shared = shared;
	w->quota = quota;
	arrival_schedule_init(&w->schedule, shared->plan.arrivals, shared->plan.rate, shared->threads, index,
			      shared->seed);
	loadgen_random_seed(&w->random, shared->seed * 7919u + index + 1);

	/* Room for everything that can be in flight: a 1100 lives its timeout plus one per reversal attempt. */
	double window_s = (1.0 + shared->reversal_attempts) * shared->plan.timeout_ms / 1000.0 + 2.0;
	uint64_t in_flight = (uint64_t)(shared->plan.rate / shared->threads * window_s) + 1024;
	if (in_flight > quota + 1)
		in_flight = quota + 1;
	uint64_t capacity = next_power_of_two(in_flight);
	/* At most 2^22 entries (256 MiB) for the whole process; beyond, requests count as unsent. */
	uint64_t cap = next_power_of_two((1ull << 22) / shared->threads);
	if (cap > (1ull << 22) / shared->threads)
		cap >>= 1;
	if (cap < (1ull << 16))
		cap = 1ull << 16;
	if (capacity > cap)
		capacity = cap;
	w->pending = calloc(capacity, sizeof(*w->pending));
	w->pending_mask = capacity - 1;
	w->terminal_stan = calloc(shared->terminals_per_thread, sizeof(*w->terminal_stan));
	w->tx_memory = malloc((size_t)UDP_BURST * LOADGEN_DATAGRAM_BYTES);
	w->rx_memory = malloc((size_t)UDP_BURST * UDP_DATAGRAM_MAX);
	if (!w->pending || !w->terminal_stan || !w->tx_memory || !w->rx_memory) {
		snprintf(w->error, sizeof w->error, "thread %u: no memory for %llu pending entries", index,
			 (unsigned long long)capacity);
		return false;
	}
	for (int i = 0; i < UDP_BURST; i++) {
		w->tx[i].data = w->tx_memory + (size_t)i * LOADGEN_DATAGRAM_BYTES;
		w->tx[i].capacity = LOADGEN_DATAGRAM_BYTES;
		w->rx[i].data = w->rx_memory + (size_t)i * UDP_DATAGRAM_MAX;
		w->rx[i].capacity = UDP_DATAGRAM_MAX;
	}
	for (int n = 0; n < CFG_MAX_NETWORKS; n++)
		w->open_datagram[n] = -1;
	if (!latency_histogram_init(&w->latency, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS) ||
	    !latency_histogram_init(&w->send_lag, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS) ||
	    !latency_histogram_init(&w->current.latency, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS)) {
		snprintf(w->error, sizeof w->error, "thread %u: no memory for histograms", index);
		return false;
	}
	for (int i = 0; i < LOADGEN_INTERVAL_RING; i++)
		if (!latency_histogram_init(&w->ring[i].latency, LOADGEN_HISTOGRAM_HIGHEST, LOADGEN_HISTOGRAM_DIGITS)) {
			snprintf(w->error, sizeof w->error, "thread %u: no memory for histograms", index);
			return false;
		}
	w->cached_unix_second = -1;
	atomic_init(&w->published, 0);
	atomic_init(&w->consumed, 0);
	atomic_init(&w->finished, false);
	atomic_init(&w->live_sent, 0);
	atomic_init(&w->live_answered, 0);
	w->next_intended_ns = arrival_schedule_next(&w->schedule);
	if (!iso_mac_view_init(&w->mac, shared->mac_keys)) {
		snprintf(w->error, sizeof w->error, "thread %u: no memory for MAC contexts", index);
		return false;
	}
	return true;
}

void loadgen_worker_free(struct loadgen_worker *w)
{
	iso_mac_view_destroy(&w->mac);
	free(w->pending);
	free(w->terminal_stan);
	free(w->tx_memory);
	free(w->rx_memory);
	latency_histogram_free(&w->latency);
	latency_histogram_free(&w->send_lag);
	latency_histogram_free(&w->current.latency);
	for (int i = 0; i < LOADGEN_INTERVAL_RING; i++)
		latency_histogram_free(&w->ring[i].latency);
	memset(w, 0, sizeof(*w));
}

static int64_t unix_second_at(const struct loadgen_worker *w, uint64_t now_ns)
{
	int64_t since_start = (int64_t)(now_ns - w->shared->start_ns);
	return (w->shared->start_unix_ns + since_start) / 1000000000;
}

static void refresh_times(struct loadgen_worker *w, int64_t unix_second)
{
	if (unix_second == w->cached_unix_second)
		return;
	loadgen_format_times(unix_second, w->cached_transmission, w->cached_local_time);
	w->cached_unix_second = unix_second;
}

/* STANs cycle 1..999999 per terminal. */
static uint32_t next_stan(struct loadgen_worker *w, unsigned terminal)
{
	uint32_t s = w->terminal_stan[terminal] % LOADGEN_STAN_MAX + 1;
	w->terminal_stan[terminal] = s;
	return s;
}

/* The purchase an entry stands for, rebuilt to encode its 1100 or its 1420. */
static void purchase_of(struct loadgen_worker *w, const struct pending_entry *e, struct purchase *p)
{
	const struct loadgen_card *card = &w->shared->cards->cards[e->card];
	p->pan = card->pan;
	p->expiry = card->expiry;
	p->amount = e->amount;
	p->stan = e->stan;
	loadgen_rrn(p->rrn, w->index, e->sequence);
	loadgen_terminal_id(p->terminal, w->index, e->terminal);
	refresh_times(w, e->unix_second);
	memcpy(p->transmission, w->cached_transmission, sizeof(p->transmission));
	memcpy(p->local_time, w->cached_local_time, sizeof(p->local_time));
}

/* Builds and queues the 1100 of intended time intended_ns. */
static void send_authorization(struct loadgen_worker *w, uint64_t intended_ns, uint64_t now_ns)
{
	const struct loadgen_shared *s = w->shared;
	uint64_t sequence = w->next_sequence++;
	struct pending_entry *e = entry_of(w, sequence);
	if (e->state == PENDING_AWAIT_ANSWER || e->state == PENDING_AWAIT_REVERSAL) {
		w->counts.unsent_table_full++;
		return;
	}
	if (s->max_outstanding && w->outstanding >= s->max_outstanding) {
		/* The link is congested: an acquirer host declines this one locally rather than
		 * queue it behind requests the switch has not read yet. Never sent, never reversed. */
		w->counts.not_sent_link_congested++;
		e->sequence = sequence;
		e->state = PENDING_NOT_SENT;
		return;
	}
	unsigned terminal = w->next_terminal;
	w->next_terminal = (w->next_terminal + 1) % s->terminals_per_thread;
	e->sequence = sequence;
	e->intended_ns = intended_ns;
	e->card = (uint32_t)(loadgen_random_next(&w->random) % s->cards->count);
	e->amount = loadgen_random_between(&w->random, s->min_amount, s->max_amount);
	e->unix_second = unix_second_at(w, now_ns);
	e->terminal = terminal;
	e->stan = next_stan(w, terminal);
	e->late_seen = false;

	struct purchase p;
	purchase_of(w, e, &p);
	unsigned network = s->cards->cards[e->card].network;
	int slot;
	struct udp_datagram *d = loadgen_tx_datagram(w, network, 400, &slot);
	enum iso_error_code err;
	size_t n = loadgen_encode_authorization(&s->context, &p, d->data + d->length, d->capacity - d->length, &err);
	n = n ? iso_mac_view_seal(s->mac_keys ? &w->mac : NULL, &iso_profile_ascii, (int)network, d->data + d->length, n)
	      : 0;
	if (n == 0) {
		w->counts.encode_errors++;
		e->state = PENDING_NOT_SENT;
		loadgen_tx_forget_empty(w, slot, network);
		return;
	}
	loadgen_tx_note_frame(w, slot, n, sequence);
	e->state = PENDING_AWAIT_ANSWER;
	e->deadline_ns = now_ns + (uint64_t)s->plan.timeout_ms * 1000000u;
	w->outstanding++;
	w->counts.sent++;
	w->last_send_ns = now_ns;
	latency_histogram_record(&w->send_lag, now_ns - s->start_ns - intended_ns);
}

/* The 1420 of a timed-out request, or (repeat) the 1421 of an unanswered 1420. */
static void send_reversal(struct loadgen_worker *w, struct pending_entry *e, uint64_t now_ns, bool repeat)
{
	const struct loadgen_shared *s = w->shared;
	struct purchase p;
	purchase_of(w, e, &p);
	if (!repeat) {
		e->reversal_stan = next_stan(w, e->terminal);
		e->reversal_unix_second = unix_second_at(w, now_ns);
		e->reversal_attempts = 0;
	}
	char transmission[11], local_time[13];
	refresh_times(w, e->reversal_unix_second);
	memcpy(local_time, w->cached_local_time, sizeof local_time);
	refresh_times(w, unix_second_at(w, now_ns));
	memcpy(transmission, w->cached_transmission, sizeof transmission);
	unsigned network = s->cards->cards[e->card].network;
	int slot;
	struct udp_datagram *d = loadgen_tx_datagram(w, network, 400, &slot);
	enum iso_error_code err;
	size_t n = loadgen_encode_reversal(&s->context, &p, e->reversal_stan, transmission, local_time, repeat,
					   d->data + d->length, d->capacity - d->length, &err);
	n = n ? iso_mac_view_seal(s->mac_keys ? &w->mac : NULL, &iso_profile_ascii, (int)network, d->data + d->length, n)
	      : 0;
	e->state = PENDING_AWAIT_REVERSAL;
	e->reversal_attempts++;
	e->deadline_ns = now_ns + (uint64_t)s->plan.timeout_ms * 1000000u;
	if (n == 0) {
		w->counts.encode_errors++;
		loadgen_tx_forget_empty(w, slot, network);
		return; /* it will count as unanswered */
	}
	loadgen_tx_note_frame(w, slot, n, e->sequence | REVERSAL_TAG | (repeat ? REPEAT_TAG : 0));
	if (repeat)
		w->counts.reversal_repeats++;
	else
		w->counts.reversals_sent++;
}

/* Sends what is due; returns how many requests went out. */
static unsigned send_due(struct loadgen_worker *w, uint64_t now_ns)
{
	const struct loadgen_shared *s = w->shared;
	uint64_t duration_ns = (uint64_t)(s->plan.duration_s * 1e9);
	uint64_t since_start = now_ns - s->start_ns;
	unsigned sent = 0;
	while (!w->sending_done && sent < SEND_ROUND_MAX) {
		if (w->next_sequence >= w->quota || w->next_intended_ns >= duration_ns ||
		    atomic_load_explicit(&s->stop, memory_order_relaxed)) {
			w->sending_done = true;
			break;
		}
		if (w->next_intended_ns > since_start)
			break;
		send_authorization(w, w->next_intended_ns, now_ns);
		w->next_intended_ns = arrival_schedule_next(&w->schedule);
		sent++;
	}
	/*
	 * Hopelessly behind (past the end of the plan by a whole timeout): what is
	 * still planned is counted as never sent instead of stretching the run.
	 */
	uint64_t give_up_ns = duration_ns + (uint64_t)s->plan.timeout_ms * 1000000u;
	if (!w->sending_done && since_start > give_up_ns) {
		while (w->next_sequence < w->quota && w->next_intended_ns < duration_ns) {
			w->next_sequence++;
			w->counts.unsent_behind++;
			w->next_intended_ns = arrival_schedule_next(&w->schedule);
		}
		w->sending_done = true;
	}
	return sent;
}

/* Reverses what timed out and gives up on reversals that timed out too. */
static unsigned expire(struct loadgen_worker *w, uint64_t now_ns)
{
	unsigned work = 0;
	uint64_t next = UINT64_MAX; /* for the idle sleep: when the first unexpired deadline falls */
	while (w->timeout_cursor < w->next_sequence && work < EXPIRE_ROUND_MAX) {
		struct pending_entry *e = entry_of(w, w->timeout_cursor);
		if (e->sequence == w->timeout_cursor && e->state == PENDING_AWAIT_ANSWER) {
			if (now_ns < e->deadline_ns) {
				next = e->deadline_ns;
				break;
			}
			w->counts.timeouts++;
			w->current.timeouts++;
			send_reversal(w, e, now_ns, false);
			work++;
		}
		w->timeout_cursor++;
	}
	/*
	 * Attempt k of every reversal is sent in sequence order when attempt k-1
	 * expires, so within one attempt deadlines are ordered by sequence: one
	 * cursor per attempt, each behind the one before it.
	 */
	unsigned attempts = w->shared->reversal_attempts;
	for (unsigned k = 0; k < attempts; k++) {
		uint64_t limit = k == 0 ? w->timeout_cursor : w->reversal_cursor[k - 1];
		while (w->reversal_cursor[k] < limit && work < EXPIRE_ROUND_MAX) {
			uint64_t sequence = w->reversal_cursor[k];
			struct pending_entry *e = entry_of(w, sequence);
			if (e->sequence == sequence && e->state == PENDING_AWAIT_REVERSAL && e->reversal_attempts == k + 1) {
				if (now_ns < e->deadline_ns) {
					next = e->deadline_ns < next ? e->deadline_ns : next;
					break;
				}
				if (k + 1 < attempts) {
					send_reversal(w, e, now_ns, true);
				} else {
					w->counts.reversals_unanswered++;
					e->state = PENDING_REVERSAL_LOST;
					w->outstanding--;
					loadgen_outcome_write(w, e, LOADGEN_OUTCOME_TIMEOUT, LOADGEN_OUTCOME_LOST);
				}
				work++;
			}
			w->reversal_cursor[k]++;
		}
	}
	w->next_expiry_ns = next;
	return work;
}

/* Publishes every second that is over (or, at the end, the part that is left). */
static void publish_intervals(struct loadgen_worker *w, uint64_t now_ns, bool final)
{
	uint64_t second = (now_ns - w->shared->start_ns) / 1000000000u;
	/* The settling tail after the last second of traffic is not a row of its own unless something happened. */
	if (final && w->current.sent == 0 && w->current.answered == 0 && w->current.timeouts == 0)
		return;
	while (w->current.second < second || final) {
		uint64_t published = atomic_load_explicit(&w->published, memory_order_relaxed);
		uint64_t consumed = atomic_load_explicit(&w->consumed, memory_order_acquire);
		if (published - consumed >= LOADGEN_INTERVAL_RING) {
			/* Main thread behind: this second folds into the next row. */
			if (final)
				return;
			w->interval_overruns++;
			w->current.second++;
			continue;
		}
		struct loadgen_interval *slot = &w->ring[published % LOADGEN_INTERVAL_RING];
		slot->second = w->current.second;
		slot->sent = w->current.sent;
		slot->answered = w->current.answered;
		slot->timeouts = w->current.timeouts;
		latency_histogram_copy(&slot->latency, &w->current.latency);
		atomic_store_explicit(&w->published, published + 1, memory_order_release);
		latency_histogram_reset(&w->current.latency);
		w->current.sent = w->current.answered = w->current.timeouts = 0;
		w->current.second++;
		if (final)
			return;
	}
}

/* How long an idle worker may sleep: until its next planned send (less the margin) or expiry. */
static uint64_t sleep_budget_ns(const struct loadgen_worker *w, uint64_t now)
{
	const struct loadgen_shared *s = w->shared;
	uint64_t until = w->next_expiry_ns;
	if (!w->sending_done) {
		uint64_t due = s->start_ns + w->next_intended_ns;
		due = due > IDLE_SPIN_MARGIN_NS ? due - IDLE_SPIN_MARGIN_NS : 0;
		until = due < until ? due : until;
	}
	if (until == UINT64_MAX)
		return IDLE_WAIT_FOREVER;
	return until > now ? until - now : 0;
}

void *loadgen_worker_main(void *arg)
{
	struct loadgen_worker *w = arg;
	const struct loadgen_shared *s = w->shared;
	/* Idle: a short adaptive spin, then a sleep on the port until an answer, a send or an expiry is due. */
	struct idle_wait idle;
	char why[256];
	if (idle_wait_init(&idle, why, sizeof(why)) != 0 ||
	    idle_wait_add_port(&idle, s->port, (uint16_t)w->index, why, sizeof(why)) != 0)
		fprintf(stderr, "cardholder-loadgen: worker %u naps when idle: %s\n", w->index, why);
	idle_wait_set_spin(&idle, s->spin_polls ? IDLE_WAIT_MAX_SPIN_NS : 0, s->spin_polls);
	/* Settling is bounded: the answer's and every reversal attempt's timeout after the last send, plus slack. */
	uint64_t settle_ns = (1ull + s->reversal_attempts) * s->plan.timeout_ms * 1000000u + 2000000000u;
	w->next_expiry_ns = UINT64_MAX;

	while (tsc_now_ns() < s->start_ns)
		idle_cpu_relax();
	for (;;) {
		iso_mac_view_refresh(&w->mac); /* one atomic load unless the keys were reloaded (SIGHUP) */
		uint64_t now = tsc_now_ns();
		unsigned sent = send_due(w, now);
		w->current.sent += sent;
		loadgen_tx_flush(w);
		/* Answers before expiry: one that came in time but waited in the socket is no timeout. */
		unsigned work = sent + loadgen_receive(w);
		work += expire(w, now);
		loadgen_tx_flush(w);
		publish_intervals(w, now, false);
		atomic_store_explicit(&w->live_sent, w->counts.sent, memory_order_relaxed);
		atomic_store_explicit(&w->live_answered, w->counts.answered, memory_order_relaxed);

		if (w->sending_done && w->outstanding == 0)
			break;
		if (w->sending_done && now > w->last_send_ns + settle_ns && now > s->start_ns + settle_ns)
			break; /* cannot happen with the cursors above; a bound all the same */
		if (work) {
			idle_wait_busy(&idle);
			continue;
		}
		if (idle_wait_spin(&idle))
			continue;
		uint64_t budget = sleep_budget_ns(w, tsc_now_ns());
		if (budget == 0) {
			idle_cpu_relax(); /* the next send is within the margin: spin to it */
			continue;
		}
		if (s->rx_stamps && !w->sending_done)
			idle_wait_sleep_timer(&idle, budget < ANSWER_WAIT_MAX_NS ? budget : ANSWER_WAIT_MAX_NS);
		else
			idle_wait_sleep(&idle, budget, NULL, NULL);
	}
	idle_wait_destroy(&idle);
	publish_intervals(w, tsc_now_ns(), true);
	atomic_store_explicit(&w->live_sent, w->counts.sent, memory_order_relaxed);
	atomic_store_explicit(&w->live_answered, w->counts.answered, memory_order_relaxed);
	atomic_store_explicit(&w->finished, true, memory_order_release);
	return NULL;
}
