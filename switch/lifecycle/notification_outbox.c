#include "notification_outbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "retry_backoff.h"

struct notification_outbox {
	struct network_lifecycle *lc; /* its outbox_waker is this thread's: production kicks it */
	pthread_t thread;
};

uint32_t notification_backoff_ms(const struct network_lifecycle *lc, uint32_t failed_attempts)
{
	return retry_backoff_ms(lc->backoff_first_ms, lc->backoff_max_ms, failed_attempts);
}

enum delivery_next notification_next_step(const struct network_lifecycle *lc, enum outbox_kind kind, bool answered,
					  long status, uint32_t failed_attempts)
{
	if (answered && status >= 200 && status <= 299)
		return DELIVERY_DONE;
	if (kind == OUTBOX_TO_BANK) {
		bool refused = answered && status >= 400 && status <= 499 && status != 408 && status != 429;
		return refused ? DELIVERY_PARK : DELIVERY_RETRY;
	}
	return failed_attempts >= lc->max_attempts ? DELIVERY_PARK : DELIVERY_RETRY;
}

/* Copies entry seq out of the store (the POST runs without a transaction open). */
static int load(struct network_lifecycle *lc, uint64_t seq, struct outbox_header *h, char **body, size_t *len)
{
	struct store_txn *t;
	int rc = network_store_read_begin(&lc->store, &t);
	if (rc)
		return rc;
	rc = net_outbox_get(t, &lc->store, seq, h, body, len); /* opened from its seal into a copy of ours */
	store_abort(t);
	return rc;
}

static int record_outcome(struct network_lifecycle *lc, uint64_t seq, struct outbox_header *h, const char *body,
			  size_t len, enum delivery_next next)
{
	struct store_txn *t;
	int rc = network_store_write_begin(&lc->store, &t);
	if (rc)
		return rc;
	if (next == DELIVERY_DONE) {
		rc = net_outbox_del(t, &lc->store, seq);
	} else {
		if (next == DELIVERY_PARK)
			h->state = OUTBOX_PARKED;
		else
			h->next_attempt_ms = lifecycle_wall_ms() + notification_backoff_ms(lc, h->attempts);
		rc = net_outbox_put(t, &lc->store, seq, h, body, len);
	}
	if (rc) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

/* One attempt at entry seq; false when the store failed (the caller backs off). */
static bool deliver(struct network_lifecycle *lc, uint64_t seq)
{
	struct outbox_header h;
	char *body = NULL;
	size_t len = 0;
	int rc = load(lc, seq, &h, &body, &len);
	if (rc) {
		lifecycle_count(&lc->stats.storage_errors);
		free(body);
		return false;
	}
	struct http_post_result res;
	http_post_text(h.url, body, len, lc->delivery_timeout_ms, &res);
	bool answered = res.outcome == HTTP_POST_ANSWERED;
	bool delivered = answered && res.status >= 200 && res.status <= 299;
	if (!delivered) {
		h.attempts++;
		if (res.outcome == HTTP_POST_ANSWERED)
			snprintf(h.last_error, sizeof(h.last_error), "HTTP status %ld", res.status);
		else
			snprintf(h.last_error, sizeof(h.last_error), "%.90s", res.error);
	}
	json_decref(res.reply);
	enum delivery_next next = notification_next_step(lc, (enum outbox_kind)h.kind, answered, res.status, h.attempts);
	rc = record_outcome(lc, seq, &h, body, len, next);
	free(body);
	if (rc) {
		lifecycle_count(&lc->stats.storage_errors);
		fprintf(stderr, "switch %s: outbox entry %llu: %s\n", lc->net->name, (unsigned long long)seq,
			store_strerror(rc));
		return false;
	}
	if (delivered) {
		lifecycle_count(&lc->stats.deliveries);
		return true;
	}
	lifecycle_count(&lc->stats.delivery_failures);
	if (h.state == OUTBOX_PARKED) {
		lifecycle_count(&lc->stats.deliveries_parked);
		fprintf(stderr, "switch %s: notification %llu to %s parked after %u attempts (%s)\n", lc->net->name,
			(unsigned long long)seq, h.url, h.attempts, h.last_error);
	}
	return true;
}

static void *outbox_loop(void *arg)
{
	struct notification_outbox *o = arg;
	struct network_lifecycle *lc = o->lc;
	int64_t deadline = 0;
	while (lifecycle_waker_wait(&lc->outbox_waker, deadline)) {
		struct store_txn *t;
		uint64_t seq = 0;
		int64_t due = 0;
		int rc = network_store_read_begin(&lc->store, &t);
		if (rc == 0) {
			rc = net_outbox_next_due(t, &lc->store, &seq, &due);
			store_abort(t);
		}
		int64_t now = lifecycle_wall_ms();
		if (rc == 0 && due <= now) {
			/* Look again at once (more may be due), unless the store is failing. */
			deadline = deliver(lc, seq) ? now : now + 1000;
		} else if (rc == 0) {
			deadline = due;
		} else {
			if (rc != STORE_NOT_FOUND)
				lifecycle_count(&lc->stats.storage_errors);
			deadline = now + 1000;
		}
	}
	return NULL;
}

struct notification_outbox *notification_outbox_start(struct network_lifecycle *lc, char *err, size_t err_size)
{
	struct notification_outbox *o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	o->lc = lc;
	lifecycle_waker_init(&lc->outbox_waker);
	if (pthread_create(&o->thread, NULL, outbox_loop, o) != 0) {
		lifecycle_waker_destroy(&lc->outbox_waker);
		free(o);
		snprintf(err, err_size, "cannot start the notification outbox thread");
		return NULL;
	}
	return o;
}

void notification_outbox_stop(struct notification_outbox *o)
{
	if (!o)
		return;
	lifecycle_waker_stop(&o->lc->outbox_waker);
	pthread_join(o->thread, NULL);
	lifecycle_waker_destroy(&o->lc->outbox_waker);
	free(o);
}
