/*
 * Single-producer/single-consumer ring of fixed-size message slots, used to
 * hand a message from the worker that received it to the worker that owns its
 * transaction. Zero-copy on both sides: the producer writes into the next free
 * slot and publishes it, the consumer reads the slot in place and releases it.
 * No locks and no allocation after creation.
 */
#ifndef SPSC_RING_H
#define SPSC_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct spsc_ring {
	/* Producer's cache line: its index and its last view of the consumer's. */
	alignas(64) atomic_size_t head;
	size_t tail_seen;
	/* Consumer's cache line. */
	alignas(64) atomic_size_t tail;
	size_t head_seen;
	alignas(64) size_t mask;
	size_t slot_size;
	uint8_t *slots;
};

/* capacity is rounded up to a power of two; slot_size to a multiple of 64. NULL on failure. */
struct spsc_ring *spsc_ring_create(size_t capacity, size_t slot_size);
void spsc_ring_free(struct spsc_ring *r);
size_t spsc_ring_capacity(const struct spsc_ring *r);

/* Producer: the next free slot, or NULL when the ring is full. */
static inline void *spsc_ring_claim(struct spsc_ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (head - r->tail_seen > r->mask) {
		r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head - r->tail_seen > r->mask)
			return NULL;
	}
	return r->slots + (head & r->mask) * r->slot_size;
}

/* Producer: makes the claimed slot visible to the consumer. */
static inline void spsc_ring_publish(struct spsc_ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

/* Consumer: the oldest published slot, or NULL when the ring is empty. */
static inline const void *spsc_ring_peek(struct spsc_ring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (tail == r->head_seen) {
		r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail == r->head_seen)
			return NULL;
	}
	return r->slots + (tail & r->mask) * r->slot_size;
}

/* Consumer: gives the peeked slot back to the producer. */
static inline void spsc_ring_release(struct spsc_ring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

#endif
