#include "saf_queue.h"

#include <stdlib.h>
#include <string.h>

#include "retry_backoff.h"

#define SAF_INITIAL_BUCKETS 1024

static uint64_t mix(uint64_t h, const void *data, size_t n)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* What a 1430 names of its advice: DE 56, DE 37 and DE 41. */
static uint64_t match_hash(const char *original, const char *rrn, const char *terminal)
{
	uint64_t h = 0xcbf29ce484222325ull;
	h = mix(h, original, strlen(original) + 1);
	h = mix(h, rrn, strlen(rrn) + 1);
	return mix(h, terminal, strlen(terminal) + 1);
}

bool saf_queue_init(struct saf_queue *q, const struct saf_settings *settings)
{
	memset(q, 0, sizeof(*q));
	q->settings = *settings;
	if (q->settings.window == 0)
		q->settings.window = 1;
	if (q->settings.drain_per_s == 0)
		q->settings.drain_per_s = 1;
	if (q->settings.first_retry_ms == 0)
		q->settings.first_retry_ms = 1;
	if (q->settings.max_retry_ms < q->settings.first_retry_ms)
		q->settings.max_retry_ms = q->settings.first_retry_ms;
	q->buckets = calloc(SAF_INITIAL_BUCKETS, sizeof(*q->buckets));
	q->bucket_mask = SAF_INITIAL_BUCKETS - 1;
	return q->buckets != NULL;
}

void saf_queue_destroy(struct saf_queue *q)
{
	for (size_t b = 0; b < q->bank_count; b++) {
		struct saf_entry *e = q->banks[b].head;
		while (e) {
			struct saf_entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(q->buckets);
	memset(q, 0, sizeof(*q));
}

static void grow_index(struct saf_queue *q)
{
	size_t n = (q->bucket_mask + 1) * 2;
	struct saf_entry **buckets = calloc(n, sizeof(*buckets));
	if (!buckets)
		return; /* longer chains, still correct */
	for (size_t i = 0; i <= q->bucket_mask; i++) {
		struct saf_entry *e = q->buckets[i];
		while (e) {
			struct saf_entry *next = e->hash_next;
			size_t at = e->match_hash & (n - 1);
			e->hash_next = buckets[at];
			buckets[at] = e;
			e = next;
		}
	}
	free(q->buckets);
	q->buckets = buckets;
	q->bucket_mask = n - 1;
}

static int bank_index(struct saf_queue *q, const struct saf_record *r)
{
	for (size_t b = 0; b < q->bank_count; b++) {
		const struct saf_bank_queue *bq = &q->banks[b];
		if (bq->ipv4 == r->bank_ipv4 && bq->port == r->bank_port && strcmp(bq->name, r->bank) == 0)
			return (int)b;
	}
	if (q->bank_count == SAF_MAX_BANKS)
		return -1;
	struct saf_bank_queue *bq = &q->banks[q->bank_count];
	memset(bq, 0, sizeof(*bq));
	memcpy(bq->name, r->bank, sizeof(bq->name));
	bq->ipv4 = r->bank_ipv4;
	bq->port = r->bank_port;
	bq->tokens = q->settings.window; /* a full burst for the first advices */
	return (int)q->bank_count++;
}

bool saf_queue_add(struct saf_queue *q, const struct saf_record *r, uint64_t now_ms)
{
	int b = bank_index(q, r);
	if (b < 0)
		return false;
	struct saf_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return false;
	e->rec = *r;
	e->next_due_ms = now_ms;
	e->bank = (uint32_t)b;
	e->match_hash = match_hash(r->f.original, r->f.rrn, r->f.terminal);
	struct saf_bank_queue *bq = &q->banks[b];
	if (bq->depth == 0)
		bq->tokens_at_ms = now_ms;
	e->prev = bq->tail;
	if (bq->tail)
		bq->tail->next = e;
	else
		bq->head = e;
	bq->tail = e;
	bq->depth++;
	size_t at = e->match_hash & q->bucket_mask;
	e->hash_next = q->buckets[at];
	q->buckets[at] = e;
	if (++q->entries > q->bucket_mask + 1)
		grow_index(q);
	return true;
}

static void unlink_entry(struct saf_queue *q, struct saf_entry *e)
{
	struct saf_bank_queue *bq = &q->banks[e->bank];
	if (e->prev)
		e->prev->next = e->next;
	else
		bq->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		bq->tail = e->prev;
	bq->depth--;
	if (e->attempts)
		bq->in_flight--;
	struct saf_entry **link = &q->buckets[e->match_hash & q->bucket_mask];
	while (*link && *link != e)
		link = &(*link)->hash_next;
	if (*link)
		*link = e->hash_next;
	q->entries--;
}

bool saf_queue_acknowledge(struct saf_queue *q, const char *original, const char *rrn, const char *terminal,
			   uint64_t now_ms, struct saf_record *out)
{
	uint64_t h = match_hash(original, rrn, terminal);
	struct saf_entry *e = q->buckets[h & q->bucket_mask];
	for (; e; e = e->hash_next) {
		const struct saf_record *r = &e->rec;
		if (e->match_hash == h && strcmp(r->f.original, original) == 0 && strcmp(r->f.rrn, rrn) == 0 &&
		    strcmp(r->f.terminal, terminal) == 0)
			break;
	}
	if (!e)
		return false;
	struct saf_bank_queue *bq = &q->banks[e->bank];
	*out = e->rec;
	unlink_entry(q, e);
	free(e);
	bq->acknowledged++;
	/* The bank answers again: what it has not answered yet was most likely
	 * lost while it was away, so it need not wait out a long back-off. */
	uint64_t soon = now_ms + q->settings.first_retry_ms;
	for (struct saf_entry *o = bq->head; o && o->attempts; o = o->next)
		if (o->next_due_ms > soon)
			o->next_due_ms = soon;
	return true;
}

uint32_t saf_retry_delay_ms(const struct saf_settings *s, uint32_t attempts)
{
	return retry_backoff_ms(s->first_retry_ms, s->max_retry_ms, attempts);
}

static void refill(const struct saf_settings *s, struct saf_bank_queue *bq, uint64_t now_ms)
{
	if (now_ms <= bq->tokens_at_ms)
		return;
	bq->tokens += (double)(now_ms - bq->tokens_at_ms) * s->drain_per_s / 1000.0;
	/* At most a window's worth in one burst, and at least one send's worth. */
	double cap = s->window > 1 ? s->window : 1;
	if (bq->tokens > cap)
		bq->tokens = cap;
	bq->tokens_at_ms = now_ms;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void send_one(const struct saf_settings *s, struct saf_bank_queue *bq, struct saf_entry *e, uint64_t now_ms,
		     saf_send_fn send, void *ctx)
{
	bool repeat = e->attempts > 0;
	if (!repeat)
		bq->in_flight++;
	e->attempts++;
	e->next_due_ms = now_ms + saf_retry_delay_ms(s, e->attempts);
	bq->tokens -= 1.0;
	bq->sent++;
	if (repeat)
		bq->repeats++;
	send(ctx, e, repeat);
}

static uint64_t run_bank(struct saf_queue *q, struct saf_bank_queue *bq, uint64_t now_ms, int64_t now_unix_ms,
			 saf_send_fn send, saf_expire_fn expire, void *ctx)
{
	const struct saf_settings *s = &q->settings;
	uint64_t wake = UINT64_MAX;
	/* Retention first: the oldest are at the head. */
	while (bq->head && bq->head->rec.queued_unix_ms + (int64_t)s->retention_ms <= now_unix_ms) {
		struct saf_entry *e = bq->head;
		unlink_entry(q, e);
		bq->expired++;
		expire(ctx, &e->rec);
		free(e);
	}
	if (!bq->head)
		return wake;
	int64_t expires_in = bq->head->rec.queued_unix_ms + (int64_t)s->retention_ms - now_unix_ms;
	wake = now_ms + (uint64_t)expires_in;
	refill(s, bq, now_ms);
	struct saf_entry *e = bq->head;
	/* Repeats of what is out at the bank. */
	for (; e && e->attempts; e = e->next) {
		if (e->next_due_ms <= now_ms && bq->tokens >= 1.0)
			send_one(s, bq, e, now_ms, send, ctx);
		wake = min_u64(wake, e->next_due_ms);
	}
	/* First sends, while the window has room. */
	for (; e && bq->in_flight < s->window && bq->tokens >= 1.0; e = e->next) {
		send_one(s, bq, e, now_ms, send, ctx);
		wake = min_u64(wake, e->next_due_ms);
	}
	bool waiting = (e && bq->in_flight < s->window) || wake <= now_ms;
	if (waiting && bq->tokens < 1.0) {
		/* Rate-bound: back when the next token is there. */
		uint64_t ms = (uint64_t)((1.0 - bq->tokens) * 1000.0 / s->drain_per_s) + 1;
		wake = min_u64(wake, now_ms + ms);
	}
	return wake;
}

uint64_t saf_queue_run(struct saf_queue *q, uint64_t now_ms, int64_t now_unix_ms, saf_send_fn send,
		       saf_expire_fn expire, void *ctx)
{
	uint64_t wake = UINT64_MAX;
	for (size_t b = 0; b < q->bank_count; b++)
		wake = min_u64(wake, run_bank(q, &q->banks[b], now_ms, now_unix_ms, send, expire, ctx));
	return wake;
}

uint64_t saf_bank_oldest_age_ms(const struct saf_bank_queue *b, int64_t now_unix_ms)
{
	if (!b->head || now_unix_ms <= b->head->rec.queued_unix_ms)
		return 0;
	return (uint64_t)(now_unix_ms - b->head->rec.queued_unix_ms);
}
