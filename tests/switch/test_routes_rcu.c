/*
 * Routes replaced under RCU while readers look up at full speed: every lookup
 * must see a whole table (never a freed or half-built one) and the answer
 * that table gives. Run under ASan, a reader touching a freed table aborts.
 *
 * The writer alternates two tables: in even versions the probe PAN's most
 * specific route is bank "even", in odd versions "odd" (and a second PAN maps
 * to "stable" in both). A reader reads the pointer once per iteration, like a
 * worker per poll loop, and checks the answer against that table's version.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "bin_routes.h"
#include "card_registry.h"
#include "rcu_cell.h"
#include "route_spec_builder.h"

#define READERS 2
#define SWAPS 400
#define LOOKUPS_PER_ITERATION 16

static struct rcu_cell cell;
static struct rcu_cell cards; /* replaced copy-on-write alongside, as POST /cards does */
static atomic_bool done;
static atomic_ulong lookups;
static atomic_ulong wrong;

static struct route_table *table(uint64_t version)
{
	/* Many filler ranges so that building and freeing take real memory. */
	struct route_spec specs[66];
	size_t n = 0;
	specs[n++] = test_route_spec("510510", "510510", "stable", 1);
	specs[n++] = test_route_spec("51051000", "51051000", version % 2 ? "odd" : "even", version % 2 ? 3 : 2);
	for (int i = 0; i < 64; i++) {
		char low[12];
		snprintf(low, sizeof(low), "4%09d", i * 1000 + (int)(version % 7));
		specs[n++] = test_route_spec(low, low, "filler", 4);
	}
	char err[128];
	struct route_table *t = route_table_build(specs, n, version, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	return t;
}

static void free_table(void *t)
{
	route_table_free(t);
}

static void free_cards(void *r)
{
	card_registry_free(r);
}

#define STABLE_PAN "5105100000000001"

static void *reader(void *arg)
{
	(void)arg;
	rcu_register_thread();
	unsigned long local = 0, bad = 0;
	while (!atomic_load(&done)) {
		const struct route_table *t = rcu_cell_read(&cell);
		const struct card_registry *r = rcu_cell_read(&cards);
		const struct card_entry *card = card_registry_find(r, STABLE_PAN, 16);
		if (!card || card->state != CARD_ACTIVE)
			bad++;
		const char *want = t->version % 2 ? "odd" : "even";
		for (int i = 0; i < LOOKUPS_PER_ITERATION; i++) {
			struct route_hit hit;
			if (!route_table_lookup(t, "5105100012345678", 16, &hit) || strcmp(hit.bank->name, want) != 0)
				bad++;
			if (!route_table_lookup(t, "5105109912345678", 16, &hit) || strcmp(hit.bank->name, "stable") != 0)
				bad++;
			local += 2;
		}
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	atomic_fetch_add(&lookups, local);
	atomic_fetch_add(&wrong, bad);
	return NULL;
}

Test(routes_rcu, readers_never_see_a_torn_or_freed_table_or_registry, .timeout = 60)
{
	rcu_cell_init(&cell, table(0), free_table);
	struct card_registry *first = card_registry_create(8);
	cr_assert(card_registry_put(first, STABLE_PAN, 16, "3012", CARD_ACTIVE));
	rcu_cell_init(&cards, first, free_cards);
	atomic_store(&done, false);
	pthread_t readers[READERS];
	for (int i = 0; i < READERS; i++)
		pthread_create(&readers[i], NULL, reader, NULL);
	for (uint64_t v = 1; v <= SWAPS; v++) {
		rcu_cell_replace(&cell, table(v));
		/* Add a card the way the control plane does: clone, put, publish. */
		const struct card_registry *current = rcu_cell_lock(&cards);
		struct card_registry *next = card_registry_clone(current, 1);
		char pan[17];
		snprintf(pan, sizeof(pan), "52%014lu", (unsigned long)v);
		cr_assert(card_registry_put(next, pan, 16, "3012", CARD_ACTIVE));
		rcu_cell_replace_locked(&cards, next);
		rcu_cell_unlock(&cards);
	}
	atomic_store(&done, true);
	for (int i = 0; i < READERS; i++)
		pthread_join(readers[i], NULL);
	cr_assert_eq(atomic_load(&wrong), 0, "%lu wrong answers", atomic_load(&wrong));
	cr_assert_gt(atomic_load(&lookups), 0);
	const struct route_table *last = rcu_cell_lock(&cell);
	cr_assert_eq(last->version, SWAPS);
	rcu_cell_unlock(&cell);
	rcu_cell_destroy(&cell);
	const struct card_registry *final_cards = rcu_cell_lock(&cards);
	cr_assert_eq(final_cards->count, SWAPS + 1, "every added card kept");
	rcu_cell_unlock(&cards);
	rcu_cell_destroy(&cards);
}
