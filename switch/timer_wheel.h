/*
 * Hashed timer wheel with 1 ms ticks for the per-worker bank timeouts and
 * reversal retries. Timers are identified by a small integer (the pending
 * transaction slot), so all state is preallocated arrays indexed by id:
 * scheduling, cancelling and expiring never allocate.
 *
 * A bucket holds every timer whose deadline falls on the same tick modulo the
 * wheel size; timers further away than one turn simply stay in their bucket
 * until their deadline has passed.
 */
#ifndef TIMER_WHEEL_H
#define TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMER_NONE UINT32_MAX

struct timer_wheel {
	uint32_t capacity;   /* ids are 0..capacity-1 */
	uint32_t slot_mask;  /* bucket count - 1 */
	uint64_t next_tick;  /* first tick not yet expired */
	uint32_t *bucket;    /* first id per bucket */
	uint32_t *next, *prev;
	uint64_t *deadline;
	uint8_t *armed;
	uint32_t armed_count;
};

/* slots is rounded up to a power of two. Returns false when out of memory. */
bool timer_wheel_init(struct timer_wheel *w, uint32_t capacity, uint32_t slots, uint64_t now_ms);
void timer_wheel_destroy(struct timer_wheel *w);

/* Arms (or re-arms) timer id for deadline_ms; a deadline in the past fires on the next expire. */
void timer_wheel_schedule(struct timer_wheel *w, uint32_t id, uint64_t deadline_ms);
void timer_wheel_cancel(struct timer_wheel *w, uint32_t id);
/* Starts loading what scheduling id will touch (its links, deadline and armed flag). */
static inline __attribute__((always_inline)) void timer_wheel_prefetch(const struct timer_wheel *w, uint32_t id)
{
	if (id >= w->capacity)
		return;
	__builtin_prefetch(&w->next[id], 1);
	__builtin_prefetch(&w->prev[id], 1);
	__builtin_prefetch(&w->deadline[id], 1);
	__builtin_prefetch(&w->armed[id], 1);
}
bool timer_wheel_armed(const struct timer_wheel *w, uint32_t id);

/*
 * Disarms and writes to out (at most max) the ids whose deadline is <= now_ms.
 * Returns how many; when it returns max, call again: the rest are still armed.
 */
size_t timer_wheel_expire(struct timer_wheel *w, uint64_t now_ms, uint32_t *out, size_t max);

#define TIMER_WHEEL_NOTHING_DUE UINT64_MAX
/*
 * The earliest deadline of an armed timer if it falls before now_ms + horizon_ms
 * (ms; now_ms or earlier when one is already due), else TIMER_WHEEL_NOTHING_DUE:
 * how long an idle worker may sleep. Walks the buckets up to the horizon.
 */
uint64_t timer_wheel_next_deadline(const struct timer_wheel *w, uint64_t now_ms, uint64_t horizon_ms);

#endif
