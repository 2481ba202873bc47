#include "saf_forwarder.h"

#include "pan_vault.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock_source.h"
#include "saf_messages.h"
#include "saf_reloaded_keys.h"
#include "spsc_ring.h"

#define SAF_RING_SLOTS 2048
#define SAF_BATCH_MAX 1024          /* requests taken from the rings per commit */
#define SAF_IDLE_WAKE_MS 1000       /* at least once a second: retention, stats */
#define SAF_RETRY_COMMIT_MS 100     /* after the disk refused a commit */
#define SAF_LOG_INTERVAL_MS 1000    /* store failures are logged at most this often */

enum saf_request_kind { SAF_REQUEST_ADVICE = 1, SAF_REQUEST_ACK = 2 };

struct saf_request {
	uint8_t kind;
	uint32_t slot;
	int action;
	char original[36];
	char rrn[13];
	char terminal[9];
	struct saf_record record;
};

/* A growable array of records: what one commit adds, removes or moves. */
struct record_list {
	struct saf_record *items;
	size_t count, capacity;
};

struct seq_list {
	uint64_t *items;
	size_t count, capacity;
};

/* A stored/not-stored reply that found its worker's ring full: kept until there is room. */
struct reply_backlog {
	struct saf_reply *items;
	size_t count, capacity;
};

/* The slots told about one commit: worker and slot of each added advice, in order. */
struct slot_ref {
	uint16_t worker;
	uint32_t slot;
};

struct saf_forwarder {
	struct saf_store *store;
	struct pan_vault *vault; /* the store's PAN seals; freed after it */
	struct saf_queue queue;
	uint16_t workers;
	struct spsc_ring *requests[SAF_MAX_WORKERS_RINGS];
	struct spsc_ring *replies[SAF_MAX_WORKERS_RINGS];
	struct reply_backlog backlog[SAF_MAX_WORKERS_RINGS];
	void (*replied)(void *ctx, uint16_t worker);
	void *replied_ctx;
	int wake_fd;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	atomic_bool healthy;
	uint16_t next_transmitter;

	/* The batch being built: new advices (with the slot waiting for each), acknowledged seqs, expired records. */
	struct record_list adds;
	struct slot_ref *add_slots;
	size_t add_slots_capacity;
	struct record_list unpersisted; /* refused by the disk once: retried with every commit */
	struct seq_list removes;
	struct record_list expired;
	uint64_t retry_commit_at_ms;
	uint64_t last_log_ms;
	uint64_t failures_since_log;

	pthread_mutex_t stats_lock;
	struct saf_stats stats;
	struct saf_reloaded_keys reloaded; /* sealed at start, read by the workers */
};

static bool grow(void **items, size_t *capacity, size_t need, size_t size)
{
	if (need <= *capacity)
		return true;
	size_t n = *capacity ? *capacity * 2 : 64;
	while (n < need)
		n *= 2;
	void *p = realloc(*items, n * size);
	if (!p)
		return false;
	*items = p;
	*capacity = n;
	return true;
}

static bool records_push(struct record_list *l, const struct saf_record *r)
{
	if (!grow((void **)&l->items, &l->capacity, l->count + 1, sizeof(*l->items)))
		return false;
	l->items[l->count++] = *r;
	return true;
}

static bool seqs_push(struct seq_list *l, uint64_t seq)
{
	if (!grow((void **)&l->items, &l->capacity, l->count + 1, sizeof(*l->items)))
		return false;
	l->items[l->count++] = seq;
	return true;
}

/* ---- start: the queue as it was left ---- */

struct load_context {
	struct saf_forwarder *f;
	const struct saf_forwarder_config *c;
	struct record_list unknown;
	uint64_t now_ms;
	bool failed;
};

static void load_one(void *ctx, const struct saf_record *r)
{
	struct load_context *l = ctx;
	if (!saf_reloaded_keys_add(&l->f->reloaded, r))
		l->failed = true;
	struct saf_record copy = *r;
	struct sockaddr_in at;
	if (!l->c->resolve || !l->c->resolve(l->c->resolve_ctx, r->bank, &at)) {
		if (!records_push(&l->unknown, r))
			l->failed = true;
		return;
	}
	/* Where the bank is now: it may have moved since the advice was queued. */
	copy.bank_ipv4 = at.sin_addr.s_addr;
	copy.bank_port = at.sin_port;
	if (!saf_queue_add(&l->f->queue, &copy, l->now_ms))
		l->failed = true;
	else
		l->f->stats.loaded++;
}

static bool reload(struct saf_forwarder *f, const struct saf_forwarder_config *c, char *err, size_t err_size)
{
	struct load_context l = {.f = f, .c = c, .now_ms = clock_monotonic_ms()};
	size_t moved = 0;
	int64_t now = clock_realtime_ms();
	int rc = saf_store_load(f->store, load_one, &l, now, &moved, err, err_size);
	f->stats.unreadable = moved;
	if (moved)
		fprintf(stderr, "saf: %zu unreadable advice(s) found at start moved to the exception queue\n", moved);
	for (size_t i = 0; rc == 0 && i < l.unknown.count; i++) {
		rc = saf_store_move_to_exceptions(f->store, &l.unknown.items[i], SAF_UNKNOWN_BANK, now, err, err_size);
		if (rc == 0) {
			f->stats.unknown_bank++;
			fprintf(stderr, "saf: advice %llu names bank '%s', which the config no longer has: moved to the "
					"exception queue\n",
				(unsigned long long)l.unknown.items[i].seq, l.unknown.items[i].bank);
		}
	}
	free(l.unknown.items);
	saf_reloaded_keys_seal(&f->reloaded);
	if (rc == 0 && l.failed) {
		snprintf(err, err_size, "out of memory reloading the SAF queue");
		return false;
	}
	return rc == 0;
}

struct saf_forwarder *saf_forwarder_create(const struct saf_forwarder_config *c, char *err, size_t err_size)
{
	if (c->workers == 0 || c->workers > SAF_MAX_WORKERS_RINGS) {
		snprintf(err, err_size, "SAF forwarder: %u workers, at most %d", c->workers, SAF_MAX_WORKERS_RINGS);
		return NULL;
	}
	struct saf_forwarder *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	f->wake_fd = -1;
	f->workers = c->workers;
	f->replied = c->replied;
	f->replied_ctx = c->replied_ctx;
	pthread_mutex_init(&f->stats_lock, NULL);
	atomic_init(&f->stop, false);
	atomic_init(&f->healthy, true);
	if (!saf_queue_init(&f->queue, &c->queue)) {
		snprintf(err, err_size, "out of memory");
		saf_forwarder_destroy(f);
		return NULL;
	}
	for (uint16_t w = 0; w < c->workers; w++) {
		f->requests[w] = spsc_ring_create(SAF_RING_SLOTS, sizeof(struct saf_request));
		f->replies[w] = spsc_ring_create(SAF_RING_SLOTS, sizeof(struct saf_reply));
		if (!f->requests[w] || !f->replies[w]) {
			snprintf(err, err_size, "out of memory");
			saf_forwarder_destroy(f);
			return NULL;
		}
	}
	f->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f->wake_fd < 0) {
		snprintf(err, err_size, "eventfd: %s", strerror(errno));
		saf_forwarder_destroy(f);
		return NULL;
	}
	f->vault = pan_vault_load(c->pan_key_file, err, err_size);
	f->store = f->vault ? saf_store_open(c->dir, c->map_size, f->vault, err, err_size) : NULL;
	if (!f->store || !reload(f, c, err, err_size)) {
		saf_forwarder_destroy(f);
		return NULL;
	}
	f->stats.healthy = true;
	return f;
}

/* ---- the thread ---- */

static void kick(struct saf_forwarder *f)
{
	uint64_t one = 1;
	/* Full counter or closed: the thread wakes anyway within SAF_IDLE_WAKE_MS. */
	ssize_t n = write(f->wake_fd, &one, sizeof(one));
	(void)n;
}

/* Tells worker that its ring holds replies (it may be asleep waiting for them). */
static void replied(struct saf_forwarder *f, uint16_t worker)
{
	if (f->replied)
		f->replied(f->replied_ctx, worker);
}

static void reply_to(struct saf_forwarder *f, uint16_t worker, enum saf_reply_kind kind, uint32_t slot)
{
	struct reply_backlog *b = &f->backlog[worker];
	/* In order: nothing overtakes what already waits. */
	if (b->count == 0) {
		struct saf_reply *r = spsc_ring_claim(f->replies[worker]);
		if (r) {
			r->kind = (uint8_t)kind;
			r->slot = slot;
			r->length = 0;
			spsc_ring_publish(f->replies[worker]);
			replied(f, worker);
			return;
		}
	}
	f->stats.reply_ring_full++;
	if (grow((void **)&b->items, &b->capacity, b->count + 1, sizeof(*b->items))) {
		b->items[b->count].kind = (uint8_t)kind;
		b->items[b->count].slot = slot;
		b->items[b->count].length = 0;
		b->count++;
	}
}

static void flush_backlogs(struct saf_forwarder *f)
{
	for (uint16_t w = 0; w < f->workers; w++) {
		struct reply_backlog *b = &f->backlog[w];
		size_t done = 0;
		while (done < b->count) {
			struct saf_reply *r = spsc_ring_claim(f->replies[w]);
			if (!r)
				break;
			*r = b->items[done++];
			spsc_ring_publish(f->replies[w]);
		}
		/* Nothing sent: items may still be NULL (never backlogged), and even a
		 * zero-length memmove from NULL is undefined (UBSan stops the switch). */
		if (done == 0)
			continue;
		replied(f, w);
		memmove(b->items, b->items + done, (b->count - done) * sizeof(*b->items));
		b->count -= done;
	}
}

static bool final_action(int action)
{
	/* 400 reversal accepted (400-499: the reversal class's approvals), 914 original not found:
	 * either way the bank has it settled. Anything else (909, 912, ...) is a bank that could
	 * not process it now: repeat. */
	return (action >= 400 && action <= 499) || action == 914;
}

static void take_request(struct saf_forwarder *f, uint16_t worker, const struct saf_request *q, uint64_t now_ms,
			 int64_t now_unix)
{
	if (q->kind == SAF_REQUEST_ADVICE) {
		struct saf_record r = q->record;
		r.seq = saf_store_next_seq(f->store) + f->adds.count + f->unpersisted.count;
		r.queued_unix_ms = now_unix;
		saf_record_seal(&r);
		if (!records_push(&f->adds, &r) ||
		    !grow((void **)&f->add_slots, &f->add_slots_capacity, f->adds.count, sizeof(*f->add_slots))) {
			/* Out of memory: it cannot even be held; the worker answers 909. */
			if (f->adds.count && f->adds.items[f->adds.count - 1].seq == r.seq)
				f->adds.count--;
			reply_to(f, worker, SAF_REPLY_NOT_STORED, q->slot);
			return;
		}
		f->add_slots[f->adds.count - 1] = (struct slot_ref){worker, q->slot};
		return;
	}
	if (!final_action(q->action)) {
		f->stats.not_final_acks++;
		return;
	}
	struct saf_record done;
	if (!saf_queue_acknowledge(&f->queue, q->original, q->rrn, q->terminal, now_ms, &done)) {
		f->stats.unmatched_acks++;
		return;
	}
	f->stats.acknowledged++;
	seqs_push(&f->removes, done.seq); /* if this fails, a restart repeats it once more: harmless */
}

static size_t drain_requests(struct saf_forwarder *f, uint64_t now_ms, int64_t now_unix)
{
	size_t taken = 0;
	for (uint16_t w = 0; w < f->workers; w++) {
		const struct saf_request *q;
		while (taken < SAF_BATCH_MAX && (q = spsc_ring_peek(f->requests[w])) != NULL) {
			take_request(f, w, q, now_ms, now_unix);
			spsc_ring_release(f->requests[w]);
			taken++;
		}
	}
	return taken;
}

static void log_failure(struct saf_forwarder *f, const char *err, uint64_t now_ms)
{
	f->failures_since_log++;
	if (now_ms - f->last_log_ms < SAF_LOG_INTERVAL_MS && f->last_log_ms)
		return;
	fprintf(stderr, "saf: %s (%llu failed commit(s) since the last report; new authorizations get 909 until "
			"a commit succeeds)\n",
		err, (unsigned long long)f->failures_since_log);
	f->failures_since_log = 0;
	f->last_log_ms = now_ms;
}

/* One synchronous commit of everything gathered; then the workers hear about their slots. */
static void commit(struct saf_forwarder *f, uint64_t now_ms, int64_t now_unix)
{
	bool have_work = f->adds.count || f->removes.count || f->expired.count || f->unpersisted.count;
	if (!have_work)
		return;
	if (!f->adds.count && now_ms < f->retry_commit_at_ms)
		return; /* only retries pending: wait for the back-off */
	/* Retried advices first, then new ones: one array for the store. */
	for (size_t i = 0; i < f->adds.count; i++)
		records_push(&f->unpersisted, &f->adds.items[i]);
	struct saf_batch b = {
		.adds = f->unpersisted.items,
		.add_count = f->unpersisted.count,
		.removes = f->removes.items,
		.remove_count = f->removes.count,
		.expired = f->expired.items,
		.expired_count = f->expired.count,
		.now_unix_ms = now_unix,
	};
	char err[256];
	bool map_full = false;
	int rc = saf_store_commit(f->store, &b, &map_full, err, sizeof(err));
	bool stored = rc == 0;
	atomic_store_explicit(&f->healthy, stored, memory_order_release);
	/* Whatever the disk said, the new advices are repeated from memory from now on. */
	for (size_t i = 0; i < f->adds.count; i++) {
		if (!saf_queue_add(&f->queue, &f->adds.items[i], now_ms))
			fprintf(stderr, "saf: advice %llu cannot be queued in memory (out of memory or too many banks)\n",
				(unsigned long long)f->adds.items[i].seq);
		reply_to(f, f->add_slots[i].worker, stored ? SAF_REPLY_STORED : SAF_REPLY_NOT_STORED,
			 f->add_slots[i].slot);
	}
	if (stored) {
		f->stats.stored += f->unpersisted.count;
		f->unpersisted.count = 0;
		f->removes.count = 0;
		f->expired.count = 0;
		f->retry_commit_at_ms = 0;
	} else {
		f->stats.store_failures++;
		f->stats.not_durable += f->adds.count;
		f->retry_commit_at_ms = now_ms + SAF_RETRY_COMMIT_MS;
		log_failure(f, err, now_ms);
	}
	f->adds.count = 0;
}

static void transmit(void *ctx, const struct saf_entry *e, bool repeat)
{
	struct saf_forwarder *f = ctx;
	uint16_t w = f->next_transmitter;
	f->next_transmitter = (uint16_t)((w + 1) % f->workers);
	/* Behind the stored/not-stored replies that wait for room, never before them. */
	struct saf_reply *r = f->backlog[w].count ? NULL : spsc_ring_claim(f->replies[w]);
	if (!r) {
		/* Counted as sent: the back-off repeats it. */
		f->stats.transmit_ring_full++;
		return;
	}
	size_t n = saf_build_advice(&e->rec, repeat, r->frame, sizeof(r->frame));
	if (n == 0)
		return; /* cannot happen for a record that passed saf_record_check */
	r->kind = SAF_REPLY_TRANSMIT;
	r->slot = 0;
	r->length = (uint16_t)n;
	memset(&r->to, 0, sizeof(r->to));
	r->to.sin_family = AF_INET;
	r->to.sin_addr.s_addr = e->rec.bank_ipv4;
	r->to.sin_port = e->rec.bank_port;
	spsc_ring_publish(f->replies[w]);
	replied(f, w);
}

static void expire(void *ctx, const struct saf_record *r)
{
	struct saf_forwarder *f = ctx;
	fprintf(stderr, "saf: advice %llu for bank '%s' not acknowledged within the retention: moved to the "
			"exception queue\n",
		(unsigned long long)r->seq, r->bank);
	records_push(&f->expired, r);
}

/* Called with stats_lock held. */
static void publish_stats(struct saf_forwarder *f, int64_t now_unix)
{
	f->stats.bank_count = f->queue.bank_count;
	f->stats.queued = f->queue.entries;
	f->stats.healthy = atomic_load_explicit(&f->healthy, memory_order_relaxed);
	for (size_t b = 0; b < f->queue.bank_count; b++) {
		const struct saf_bank_queue *q = &f->queue.banks[b];
		struct saf_bank_stats *s = &f->stats.banks[b];
		memcpy(s->name, q->name, sizeof(s->name));
		s->depth = q->depth;
		s->in_flight = q->in_flight;
		s->oldest_age_ms = saf_bank_oldest_age_ms(q, now_unix);
		s->sent = q->sent;
		s->repeats = q->repeats;
		s->acknowledged = q->acknowledged;
		s->expired = q->expired;
	}
}

static bool rings_empty(struct saf_forwarder *f)
{
	for (uint16_t w = 0; w < f->workers; w++)
		if (spsc_ring_peek(f->requests[w]))
			return false;
	return true;
}

/*
 * One turn: take what the workers handed in, commit it, tell them, send what
 * is due. Returns when the next turn is needed (monotonic ms), 0 for at once;
 * with stopping, UINT64_MAX once everything handed in is on disk.
 */
static uint64_t turn(struct saf_forwarder *f, uint64_t now, int64_t now_unix, bool stopping)
{
	/* The counters /stats copies change only under this lock; the HTTP
	 * thread may wait behind one commit, never the workers. */
	pthread_mutex_lock(&f->stats_lock);
	drain_requests(f, now, now_unix);
	commit(f, now, now_unix);
	flush_backlogs(f);
	if (stopping && rings_empty(f)) {
		publish_stats(f, now_unix);
		pthread_mutex_unlock(&f->stats_lock);
		return UINT64_MAX;
	}
	uint64_t wake = saf_queue_run(&f->queue, now, now_unix, transmit, expire, f);
	publish_stats(f, now_unix);
	pthread_mutex_unlock(&f->stats_lock);
	return f->expired.count || !rings_empty(f) ? 0 : wake;
}

uint64_t saf_forwarder_step(struct saf_forwarder *f, uint64_t now_ms)
{
	return turn(f, now_ms, clock_realtime_ms(), false);
}

static void *forwarder_main(void *arg)
{
	struct saf_forwarder *f = arg;
	for (;;) {
		bool stopping = atomic_load_explicit(&f->stop, memory_order_acquire);
		uint64_t now = clock_monotonic_ms();
		uint64_t wake = turn(f, now, clock_realtime_ms(), stopping);
		if (stopping && wake == UINT64_MAX)
			break;
		if (wake == 0)
			continue;
		uint64_t wait_ms = SAF_IDLE_WAKE_MS;
		if (wake != UINT64_MAX)
			wait_ms = wake <= now ? 0 : (wake - now < wait_ms ? wake - now : wait_ms);
		if (f->retry_commit_at_ms && f->retry_commit_at_ms - now < wait_ms)
			wait_ms = f->retry_commit_at_ms > now ? f->retry_commit_at_ms - now : 0;
		for (uint16_t w = 0; w < f->workers; w++)
			if (f->backlog[w].count)
				wait_ms = wait_ms > 1 ? 1 : wait_ms;
		struct pollfd p = {.fd = f->wake_fd, .events = POLLIN};
		if (poll(&p, 1, (int)wait_ms) > 0) {
			uint64_t count;
			ssize_t n = read(f->wake_fd, &count, sizeof(count));
			(void)n;
		}
	}
	return NULL;
}

bool saf_forwarder_start(struct saf_forwarder *f, char *err, size_t err_size)
{
	int rc = pthread_create(&f->thread, NULL, forwarder_main, f);
	if (rc != 0) {
		snprintf(err, err_size, "SAF forwarder thread: %s", strerror(rc));
		return false;
	}
	f->started = true;
	return true;
}

void saf_forwarder_stop(struct saf_forwarder *f)
{
	if (!f || !f->started)
		return;
	atomic_store_explicit(&f->stop, true, memory_order_release);
	kick(f);
	pthread_join(f->thread, NULL);
	f->started = false;
}

void saf_forwarder_destroy(struct saf_forwarder *f)
{
	if (!f)
		return;
	saf_forwarder_stop(f);
	for (uint16_t w = 0; w < SAF_MAX_WORKERS_RINGS; w++) {
		spsc_ring_free(f->requests[w]);
		spsc_ring_free(f->replies[w]);
		free(f->backlog[w].items);
	}
	if (f->wake_fd >= 0)
		close(f->wake_fd);
	saf_queue_destroy(&f->queue);
	saf_reloaded_keys_free(&f->reloaded);
	saf_store_close(f->store);
	pan_vault_free(f->vault);
	free(f->adds.items);
	free(f->add_slots);
	free(f->unpersisted.items);
	free(f->removes.items);
	free(f->expired.items);
	pthread_mutex_destroy(&f->stats_lock);
	free(f);
}

/* ---- worker side ---- */

bool saf_submit_advice(struct saf_forwarder *f, uint16_t worker, uint32_t slot, const struct saf_record *r)
{
	struct saf_request *q = spsc_ring_claim(f->requests[worker]);
	if (!q)
		return false;
	q->kind = SAF_REQUEST_ADVICE;
	q->slot = slot;
	q->record = *r;
	spsc_ring_publish(f->requests[worker]);
	kick(f);
	return true;
}

static void copy_text(char *to, size_t size, const char *from)
{
	size_t n = strnlen(from, size - 1);
	memcpy(to, from, n);
	to[n] = '\0';
}

bool saf_submit_acknowledgement(struct saf_forwarder *f, uint16_t worker, const char *original, const char *rrn,
				const char *terminal, int action)
{
	struct saf_request *q = spsc_ring_claim(f->requests[worker]);
	if (!q)
		return false;
	q->kind = SAF_REQUEST_ACK;
	q->action = action;
	copy_text(q->original, sizeof(q->original), original);
	copy_text(q->rrn, sizeof(q->rrn), rrn);
	copy_text(q->terminal, sizeof(q->terminal), terminal);
	spsc_ring_publish(f->requests[worker]);
	kick(f);
	return true;
}

const struct saf_reply *saf_reply_peek(struct saf_forwarder *f, uint16_t worker)
{
	return spsc_ring_peek(f->replies[worker]);
}

void saf_reply_release(struct saf_forwarder *f, uint16_t worker)
{
	spsc_ring_release(f->replies[worker]);
}

const struct saf_reloaded_keys *saf_forwarder_reloaded_keys(const struct saf_forwarder *f)
{
	return &f->reloaded;
}

bool saf_forwarder_healthy(const struct saf_forwarder *f)
{
	return atomic_load_explicit(&f->healthy, memory_order_acquire);
}

/* ---- control plane ---- */

void saf_forwarder_stats(struct saf_forwarder *f, struct saf_stats *out)
{
	pthread_mutex_lock(&f->stats_lock);
	*out = f->stats;
	pthread_mutex_unlock(&f->stats_lock);
}

int saf_forwarder_list_queued(struct saf_forwarder *f, size_t limit, saf_record_fn fn, void *ctx)
{
	return saf_store_list_queued(f->store, limit, fn, ctx);
}

int saf_forwarder_list_exceptions(struct saf_forwarder *f, size_t limit, saf_exception_fn fn, void *ctx)
{
	return saf_store_list_exceptions(f->store, limit, fn, ctx);
}

int saf_forwarder_counts(struct saf_forwarder *f, uint64_t *queued, uint64_t *exceptions)
{
	return saf_store_counts(f->store, queued, exceptions);
}
