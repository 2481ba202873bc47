/*
 * Single-producer/single-consumer ring of fixed-size slots, the hand-off
 * between the TCP port's I/O thread and one worker queue.
 *
 * Every slot is allocated once at init; a message is written in place into a
 * claimed slot and published, so nothing is allocated per message. The
 * producer and the consumer each cache the other side's index and reload it
 * only when the cache says the ring looks full (or empty), which keeps the
 * shared cache lines quiet while traffic flows.
 *
 *   producer:  void *s = tcp_ring_claim(r); if (s) { fill s; tcp_ring_publish(r); }
 *   consumer:  void *s = tcp_ring_peek(r);  if (s) { use s;  tcp_ring_release(r); }
 */
#ifndef TCP_RING_H
#define TCP_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcp_ring {
	uint8_t *slots;
	size_t slot_size; /* stride, a multiple of 64 */
	uint32_t mask;    /* slot count - 1 (the count is a power of two) */
	/* Producer side: written by the producer only. */
	alignas(64) _Atomic uint32_t head; /* next slot to publish */
	uint32_t cached_tail;
	/* Consumer side: written by the consumer only. */
	alignas(64) _Atomic uint32_t tail; /* next slot to consume */
	uint32_t cached_head;
};

/* slot_count is rounded up to a power of two (at least 2); slot_bytes up to a multiple of 64.
 * Returns false when out of memory or the sizes are absurd. */
bool tcp_ring_init(struct tcp_ring *r, uint32_t slot_count, size_t slot_bytes);
void tcp_ring_destroy(struct tcp_ring *r);

static inline uint32_t tcp_ring_capacity(const struct tcp_ring *r)
{
	return r->mask + 1;
}

/* Producer: how many slots can be claimed and published now (at least this many). */
static inline uint32_t tcp_ring_free(struct tcp_ring *r)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t free_slots = tcp_ring_capacity(r) - (head - r->cached_tail);
	if (free_slots == 0) {
		r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
		free_slots = tcp_ring_capacity(r) - (head - r->cached_tail);
	}
	return free_slots;
}

/* Producer: true when n slots can be claimed now. Looks at the consumer's index whenever the
 * cached view is short of n, not only at zero: a producer of multi-slot items waiting for n
 * free slots would otherwise wait forever on a stale view. */
static inline bool tcp_ring_has_room(struct tcp_ring *r, uint32_t n)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (tcp_ring_capacity(r) - (head - r->cached_tail) >= n)
		return true;
	r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	return tcp_ring_capacity(r) - (head - r->cached_tail) >= n;
}

/* Producer: the next free slot, or NULL when the ring is full. Nothing is visible until publish. */
static inline void *tcp_ring_claim(struct tcp_ring *r)
{
	if (tcp_ring_free(r) == 0)
		return NULL;
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	return r->slots + (size_t)(head & r->mask) * r->slot_size;
}

/* Producer: makes the claimed slot visible to the consumer. */
static inline void tcp_ring_publish(struct tcp_ring *r)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

/* Consumer: the oldest published slot, or NULL when empty. */
static inline void *tcp_ring_peek(struct tcp_ring *r)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (tail == r->cached_head) {
		r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail == r->cached_head)
			return NULL;
	}
	return r->slots + (size_t)(tail & r->mask) * r->slot_size;
}

/* Consumer: gives the peeked slot back to the producer. */
static inline void tcp_ring_release(struct tcp_ring *r)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

/* Any thread: how many slots are published and unconsumed (a hint; may be stale at once). */
static inline uint32_t tcp_ring_used_hint(struct tcp_ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) - atomic_load_explicit(&r->tail, memory_order_acquire);
}

/* Any thread: true when nothing is published and unconsumed (a hint; may be stale at once). */
static inline bool tcp_ring_looks_empty(struct tcp_ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) ==
	       atomic_load_explicit(&r->tail, memory_order_acquire);
}

#endif
