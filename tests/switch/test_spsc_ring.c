#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "spsc_ring.h"

struct item {
	uint64_t sequence;
	uint64_t check;
};

Test(spsc_ring, rounds_capacity_and_reports_full_and_empty)
{
	struct spsc_ring *r = spsc_ring_create(5, sizeof(struct item));
	cr_assert_not_null(r);
	cr_assert_eq(spsc_ring_capacity(r), 8);
	cr_assert_null(spsc_ring_peek(r));
	for (uint64_t i = 0; i < 8; i++) {
		struct item *it = spsc_ring_claim(r);
		cr_assert_not_null(it, "slot %lu", (unsigned long)i);
		it->sequence = i;
		spsc_ring_publish(r);
	}
	cr_assert_null(spsc_ring_claim(r), "a full ring gives no slot");
	for (uint64_t i = 0; i < 8; i++) {
		const struct item *it = spsc_ring_peek(r);
		cr_assert_not_null(it);
		cr_assert_eq(it->sequence, i, "FIFO order");
		spsc_ring_release(r);
	}
	cr_assert_null(spsc_ring_peek(r));
	cr_assert_not_null(spsc_ring_claim(r), "released slots are reusable");
	spsc_ring_free(r);
}

Test(spsc_ring, unpublished_slot_is_invisible)
{
	struct spsc_ring *r = spsc_ring_create(4, 16);
	struct item *it = spsc_ring_claim(r);
	it->sequence = 7;
	cr_assert_null(spsc_ring_peek(r), "claimed but not published");
	spsc_ring_publish(r);
	cr_assert_not_null(spsc_ring_peek(r));
	spsc_ring_free(r);
}

Test(spsc_ring, rejects_bad_sizes)
{
	cr_assert_null(spsc_ring_create(0, 16));
	cr_assert_null(spsc_ring_create(16, 0));
}

#define STRESS_ITEMS 300000u

static void *produce(void *arg)
{
	struct spsc_ring *r = arg;
	for (uint64_t i = 0; i < STRESS_ITEMS;) {
		struct item *it = spsc_ring_claim(r);
		if (!it) {
			sched_yield();
			continue;
		}
		it->sequence = i;
		it->check = i * 2654435761u;
		spsc_ring_publish(r);
		i++;
	}
	return NULL;
}

Test(spsc_ring, threads_see_every_item_once_in_order)
{
	struct spsc_ring *r = spsc_ring_create(64, sizeof(struct item));
	pthread_t producer;
	pthread_create(&producer, NULL, produce, r);
	uint64_t expected = 0;
	while (expected < STRESS_ITEMS) {
		const struct item *it = spsc_ring_peek(r);
		if (!it) {
			sched_yield();
			continue;
		}
		cr_assert_eq(it->sequence, expected);
		cr_assert_eq(it->check, expected * 2654435761u, "slot content published before the index");
		spsc_ring_release(r);
		expected++;
	}
	pthread_join(producer, NULL);
	cr_assert_null(spsc_ring_peek(r));
	spsc_ring_free(r);
}
