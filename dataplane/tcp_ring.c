/*
 * Allocation of the SPSC slot ring (the fast paths are inline in tcp_ring.h).
 */
#include "tcp_ring.h"

#include <stdlib.h>
#include <string.h>

#define TCP_RING_MAX_SLOTS (1u << 24)

bool tcp_ring_init(struct tcp_ring *r, uint32_t slot_count, size_t slot_bytes)
{
	memset(r, 0, sizeof(*r));
	if (slot_count == 0 || slot_count > TCP_RING_MAX_SLOTS || slot_bytes == 0 || slot_bytes > (1u << 24))
		return false;
	uint32_t count = 2;
	while (count < slot_count)
		count <<= 1;
	/* Whole cache lines per slot: neighbouring slots never share a line across threads. */
	size_t stride = (slot_bytes + 63) & ~(size_t)63;
	r->slots = aligned_alloc(64, (size_t)count * stride);
	if (!r->slots)
		return false;
	r->slot_size = stride;
	r->mask = count - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->cached_tail = 0;
	r->cached_head = 0;
	return true;
}

void tcp_ring_destroy(struct tcp_ring *r)
{
	free(r->slots);
	r->slots = NULL;
}
