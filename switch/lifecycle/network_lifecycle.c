#include "network_lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "card_production.h"
#include "card_registry.h"
#include "http_client.h"
#include "notification_outbox.h"
#include "switch_core.h"

void lifecycle_waker_init(struct lifecycle_waker *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &a);
	pthread_condattr_destroy(&a);
	w->kicked = w->stop = false;
}

void lifecycle_waker_destroy(struct lifecycle_waker *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

void lifecycle_waker_kick(struct lifecycle_waker *w)
{
	pthread_mutex_lock(&w->lock);
	w->kicked = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void lifecycle_waker_stop(struct lifecycle_waker *w)
{
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int64_t lifecycle_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool lifecycle_waker_wait(struct lifecycle_waker *w, int64_t deadline_wall_ms)
{
	int64_t wait_ms = deadline_wall_ms - lifecycle_wall_ms();
	if (wait_ms > 1000)
		wait_ms = 1000; /* re-read the store now and then: the wall clock may jump */
	pthread_mutex_lock(&w->lock);
	if (wait_ms > 0 && !w->kicked && !w->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (wait_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!w->kicked && !w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &until) == 0)
			;
	}
	w->kicked = false;
	bool running = !w->stop;
	pthread_mutex_unlock(&w->lock);
	return running;
}

bool network_lifecycle_register(struct network_lifecycle *lc, const char *pan)
{
	/*
	 * The state is read from the store under the registry's lock: the HTTP thread (a new card)
	 * and the production thread (a made card) may register the same PAN nearly at once, and
	 * whichever comes second must not put back an older state.
	 */
	struct rcu_cell *cell = &lc->core->cards;
	const struct card_registry *current = rcu_cell_lock(cell);
	MDB_txn *t;
	struct net_card card;
	memset(&card, 0, sizeof(card));
	int rc = network_store_begin(&lc->store, MDB_RDONLY, &t);
	if (rc == 0) {
		rc = net_card_get(t, &lc->store, pan, &card);
		mdb_txn_abort(t);
	}
	struct card_registry *next = rc == 0 ? card_registry_clone(current, 1) : NULL;
	enum card_state state = card.state == NET_CARD_PRODUCED ? CARD_ACTIVE : CARD_BLOCKED;
	bool ok = next && card_registry_put(next, pan, strlen(pan), card.expiry, state);
	if (ok)
		rcu_cell_replace_locked(cell, next);
	rcu_cell_unlock(cell);
	if (!ok) {
		card_registry_free(next);
		lifecycle_count(&lc->stats.registry_errors);
		fprintf(stderr, "switch %s: cannot register card %s: %s\n", lc->net->name, pan,
			rc ? mdb_strerror(rc) : "out of memory or bad card");
	}
	return ok;
}

struct registry_batch {
	struct card_registry *next;
	bool ok;
};

static void add_to_batch(const char *pan, const struct net_card *c, void *ctx)
{
	struct registry_batch *b = ctx;
	enum card_state state = c->state == NET_CARD_PRODUCED ? CARD_ACTIVE : CARD_BLOCKED;
	if (b->ok && !card_registry_put(b->next, pan, strlen(pan), c->expiry, state))
		b->ok = false;
}

static size_t count_cards(struct network_lifecycle *lc)
{
	MDB_txn *t;
	MDB_stat st;
	if (network_store_begin(&lc->store, MDB_RDONLY, &t))
		return 0;
	int rc = mdb_stat(t, lc->store.cards, &st);
	mdb_txn_abort(t);
	return rc ? 0 : st.ms_entries;
}

bool network_lifecycle_republish(struct network_lifecycle *lc, char *err, size_t err_size)
{
	/* One new registry for all the store's cards (one copy, one grace period), not one per card. */
	size_t n = count_cards(lc);
	if (n == 0)
		return true;
	/* Lock first, then read the store: a card produced meanwhile is registered by the production
	 * thread after we let go, so our older snapshot cannot overwrite its new state. */
	struct rcu_cell *cell = &lc->core->cards;
	const struct card_registry *current = rcu_cell_lock(cell);
	MDB_txn *t;
	int rc = network_store_begin(&lc->store, MDB_RDONLY, &t);
	if (rc) {
		rcu_cell_unlock(cell);
		snprintf(err, err_size, "LMDB: %s", mdb_strerror(rc));
		return false;
	}
	struct registry_batch b = {card_registry_clone(current, n + 16), true};
	b.ok = b.next != NULL;
	rc = net_card_scan(t, &lc->store, add_to_batch, &b);
	mdb_txn_abort(t);
	if (rc == 0 && b.ok)
		rcu_cell_replace_locked(cell, b.next);
	rcu_cell_unlock(cell);
	if (rc || !b.ok) {
		card_registry_free(b.next);
		snprintf(err, err_size, "%s", rc ? mdb_strerror(rc) : "cannot build the card registry");
		return false;
	}
	return true;
}

struct network_lifecycle *network_lifecycle_start(const struct ecosystem_config *config, const char *network,
						  struct switch_core *core, char *err, size_t err_size)
{
	struct network_lifecycle *lc = calloc(1, sizeof(*lc));
	if (!lc || !(lc->config = malloc(sizeof(*lc->config)))) {
		free(lc);
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	memcpy(lc->config, config, sizeof(*config));
	lc->net = ecosystem_find_network(lc->config, network);
	if (!lc->net) {
		snprintf(err, err_size, "network '%s' is not in the config", network);
		goto fail;
	}
	lc->core = core;
	lc->delivery_timeout_ms = 2000;
	lc->backoff_first_ms = 200;
	lc->backoff_max_ms = 10000;
	lc->max_attempts = 10;
	http_client_global_init();
	if (network_store_open(&lc->store, lc->net->lmdb_path, LIFECYCLE_MAP_SIZE, err, err_size))
		goto fail;
	if (!network_lifecycle_republish(lc, err, err_size))
		goto fail_store;
	lc->outbox = notification_outbox_start(lc, err, err_size);
	if (!lc->outbox)
		goto fail_store;
	lc->production = card_production_start(lc, err, err_size);
	if (!lc->production) {
		notification_outbox_stop(lc->outbox);
		goto fail_store;
	}
	return lc;
fail_store:
	network_store_close(&lc->store);
fail:
	free(lc->config);
	free(lc);
	return NULL;
}

void network_lifecycle_stop(struct network_lifecycle *lc)
{
	if (!lc)
		return;
	card_production_stop(lc->production);
	notification_outbox_stop(lc->outbox);
	network_store_close(&lc->store);
	free(lc->config);
	free(lc);
}
