#include "spsc_ring.h"

#include <stdlib.h>
#include <string.h>

struct spsc_ring *spsc_ring_create(size_t capacity, size_t slot_size)
{
	if (capacity == 0 || slot_size == 0 || capacity > ((size_t)1 << 24))
		return NULL;
	size_t rounded = 1;
	while (rounded < capacity)
		rounded <<= 1;
	slot_size = (slot_size + 63) & ~(size_t)63;

	struct spsc_ring *r = aligned_alloc(64, sizeof(*r));
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->slots = aligned_alloc(64, rounded * slot_size);
	if (!r->slots) {
		free(r);
		return NULL;
	}
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->mask = rounded - 1;
	r->slot_size = slot_size;
	return r;
}

void spsc_ring_free(struct spsc_ring *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

size_t spsc_ring_capacity(const struct spsc_ring *r)
{
	return r->mask + 1;
}
