#include "card_production.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle_registry.h"
#include "pan_mask.h"

struct card_production {
	struct network_lifecycle *lc;
	struct lifecycle_waker waker;
	pthread_t thread;
};

static const struct cfg_bank *find_bank(const struct network_lifecycle *lc, const char *name)
{
	return ecosystem_find_bank(lc->config, name);
}

static int enqueue(struct network_lifecycle *lc, struct store_txn *t, enum outbox_kind kind, const char *url,
		   const char *body, int64_t now, uint64_t *seq)
{
	struct outbox_header h;
	memset(&h, 0, sizeof(h));
	h.next_attempt_ms = now;
	h.state = OUTBOX_PENDING;
	h.kind = (uint8_t)kind;
	snprintf(h.url, sizeof(h.url), "%s", url);
	int rc = net_counter_next(t, &lc->store, "outbox_seq", 1, seq);
	if (rc == 0)
		rc = net_outbox_put(t, &lc->store, *seq, &h, body, strlen(body));
	return rc;
}

int card_production_complete(struct network_lifecycle *lc, const char *pan, int64_t due_ms, char *expiry_out)
{
	struct store_txn *t;
	int rc = network_store_write_begin(&lc->store, &t);
	if (rc)
		return rc;
	struct net_card card;
	rc = net_card_get(t, &lc->store, pan, &card);
	int del = net_production_del(t, &lc->store, due_ms, pan);
	if (del && del != STORE_NOT_FOUND) {
		store_abort(t);
		return del;
	}
	if (rc == STORE_NOT_FOUND || (rc == 0 && card.state != NET_CARD_IN_PRODUCTION)) {
		/* Nothing to make (made already, or a stray entry): only the queue entry goes. */
		rc = store_commit(t);
		return rc ? rc : STORE_NOT_FOUND;
	}
	if (rc) {
		store_abort(t);
		return rc;
	}
	int64_t now = lifecycle_wall_ms();
	card.state = NET_CARD_PRODUCED;
	card.produced_ms = now;
	rc = net_card_put(t, &lc->store, pan, &card, STORE_REPLACE);

	/*
	 * Two bodies: the issuing bank's (the full PAN and expiry: it stores the card, sealed, and
	 * delivers it once to its customer) and everyone else's, the customer's webhook and the
	 * notifications they poll (the PAN masked, no expiry: docs/data-protection.md).
	 */
	char masked[PAN_MASK_SIZE];
	pan_mask(pan, masked, sizeof(masked));
	json_t *event = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "event", "card.ready", "pan", masked, "customer",
				  card.customer, "network", lc->net->name, "bank", card.bank, "produced_at_ms",
				  (json_int_t)now);
	json_t *to_bank = event ? json_deep_copy(event) : NULL;
	if (to_bank) {
		json_object_set_new(to_bank, "pan", json_string(pan));
		json_object_set_new(to_bank, "expiry", json_string(card.expiry));
	}
	char *bank_body = to_bank ? json_dumps(to_bank, JSON_COMPACT) : NULL;
	char *body = event ? json_dumps(event, JSON_COMPACT) : NULL;
	json_decref(to_bank);
	if (!body || !bank_body)
		rc = rc ? rc : ENOMEM;
	/* The bank first: by the time the customer hears, the bank usually knows the card is made. */
	const struct cfg_bank *bank = find_bank(lc, card.bank);
	uint64_t bank_seq = 0, customer_seq = 0;
	if (rc == 0 && bank) {
		char url[128];
		snprintf(url, sizeof(url), "http://%s:%u/card-produced", bank->http.host, bank->http.port);
		rc = enqueue(lc, t, OUTBOX_TO_BANK, url, bank_body, now, &bank_seq);
	}
	struct net_customer customer;
	bool has_webhook = false;
	if (rc == 0 && net_customer_get(t, &lc->store, card.customer, &customer) == 0 && customer.webhook[0]) {
		has_webhook = true;
		rc = enqueue(lc, t, OUTBOX_TO_CUSTOMER, customer.webhook, body, now, &customer_seq);
	}
	if (rc == 0) {
		uint64_t seq = customer_seq;
		if (!has_webhook)
			rc = net_counter_next(t, &lc->store, "outbox_seq", 1, &seq);
		json_object_set_new(event, "seq", json_integer((json_int_t)seq));
		if (has_webhook)
			json_object_set_new(event, "outbox_seq", json_integer((json_int_t)customer_seq));
		char *stored = json_dumps(event, JSON_COMPACT);
		if (rc == 0)
			rc = stored ? net_notification_put(t, &lc->store, card.customer, seq, stored) : ENOMEM;
		free(stored);
	}
	free(body);
	free(bank_body);
	json_decref(event);
	if (rc) {
		store_abort(t);
		return rc;
	}
	rc = store_commit(t);
	if (rc)
		return rc;
	memcpy(expiry_out, card.expiry, 5);
	lifecycle_count(&lc->stats.cards_produced);
	network_lifecycle_register(lc, pan);
	lifecycle_waker_kick(&lc->outbox_waker); /* the delivery thread: new entries */
	return 0;
}

static void *production_loop(void *arg)
{
	struct card_production *p = arg;
	struct network_lifecycle *lc = p->lc;
	int64_t deadline = 0;
	while (lifecycle_waker_wait(&p->waker, deadline)) {
		struct store_txn *t;
		int64_t due = 0;
		char pan[NET_PAN_MAX];
		int rc = network_store_read_begin(&lc->store, &t);
		if (rc == 0) {
			rc = net_production_first(t, &lc->store, &due, pan);
			store_abort(t);
		}
		int64_t now = lifecycle_wall_ms();
		if (rc == STORE_NOT_FOUND) {
			deadline = now + 1000;
			continue;
		}
		if (rc == 0 && due > now) {
			deadline = due;
			continue;
		}
		char expiry[5];
		if (rc == 0)
			rc = card_production_complete(lc, pan, due, expiry);
		if (rc && rc != STORE_NOT_FOUND) {
			lifecycle_count(&lc->stats.storage_errors);
			fprintf(stderr, "switch %s: producing card: %s\n", lc->net->name, store_strerror(rc));
			deadline = now + 1000; /* storage trouble: retry later, not in a hot loop */
		} else {
			deadline = now; /* the next card may be due as well */
		}
	}
	return NULL;
}

struct card_production *card_production_start(struct network_lifecycle *lc, char *err, size_t err_size)
{
	struct card_production *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	p->lc = lc;
	lifecycle_waker_init(&p->waker);
	if (pthread_create(&p->thread, NULL, production_loop, p) != 0) {
		lifecycle_waker_destroy(&p->waker);
		free(p);
		snprintf(err, err_size, "cannot start the card production thread");
		return NULL;
	}
	return p;
}

void card_production_kick(struct card_production *p)
{
	lifecycle_waker_kick(&p->waker);
}

void card_production_stop(struct card_production *p)
{
	if (!p)
		return;
	lifecycle_waker_stop(&p->waker);
	pthread_join(p->thread, NULL);
	lifecycle_waker_destroy(&p->waker);
	free(p);
}
