#include "lifecycle_registry.h"

#include <stdio.h>
#include <string.h>

#include "card_registry.h"
#include "switch_core.h"
#include "pan_mask.h"

bool network_lifecycle_register(struct network_lifecycle *lc, const char *pan)
{
	/*
	 * The state is read from the store under the registry's lock: the HTTP thread (a new card)
	 * and the production thread (a made card) may register the same PAN nearly at once, and
	 * whichever comes second must not put back an older state.
	 */
	struct rcu_cell *cell = &lc->core->cards;
	const struct card_registry *current = rcu_cell_lock(cell);
	struct store_txn *t;
	struct net_card card;
	memset(&card, 0, sizeof(card));
	int rc = network_store_read_begin(&lc->store, &t);
	if (rc == 0) {
		rc = net_card_get(t, &lc->store, pan, &card);
		store_abort(t);
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
		char masked[PAN_MASK_SIZE];
		fprintf(stderr, "switch %s: cannot register card %s: %s\n", lc->net->name,
			pan_mask(pan, masked, sizeof(masked)),
			rc ? store_strerror(rc) : "out of memory or bad card");
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
	struct store_txn *t;
	size_t n;
	if (network_store_read_begin(&lc->store, &t))
		return 0;
	int rc = net_card_count(t, &lc->store, &n);
	store_abort(t);
	return rc ? 0 : n;
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
	struct store_txn *t;
	int rc = network_store_read_begin(&lc->store, &t);
	if (rc) {
		rcu_cell_unlock(cell);
		snprintf(err, err_size, "LMDB: %s", store_strerror(rc));
		return false;
	}
	struct registry_batch b = {card_registry_clone(current, n + 16), true};
	b.ok = b.next != NULL;
	rc = net_card_scan(t, &lc->store, add_to_batch, &b);
	store_abort(t);
	if (rc == 0 && b.ok)
		rcu_cell_replace_locked(cell, b.next);
	rcu_cell_unlock(cell);
	if (rc || !b.ok) {
		card_registry_free(b.next);
		snprintf(err, err_size, "%s", rc ? store_strerror(rc) : "cannot build the card registry");
		return false;
	}
	return true;
}
