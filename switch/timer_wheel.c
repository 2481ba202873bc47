#include "timer_wheel.h"

#include <stdlib.h>
#include <string.h>

bool timer_wheel_init(struct timer_wheel *w, uint32_t capacity, uint32_t slots, uint64_t now_ms)
{
	memset(w, 0, sizeof(*w));
	if (capacity == 0 || capacity == TIMER_NONE || slots == 0 || slots > (1u << 24))
		return false;
	uint32_t rounded = 1;
	while (rounded < slots)
		rounded <<= 1;
	w->capacity = capacity;
	w->slot_mask = rounded - 1;
	w->next_tick = now_ms;
	w->bucket = malloc(sizeof(*w->bucket) * rounded);
	w->next = malloc(sizeof(*w->next) * capacity);
	w->prev = malloc(sizeof(*w->prev) * capacity);
	w->deadline = malloc(sizeof(*w->deadline) * capacity);
	w->armed = calloc(capacity, 1);
	if (!w->bucket || !w->next || !w->prev || !w->deadline || !w->armed) {
		timer_wheel_destroy(w);
		return false;
	}
	for (uint32_t i = 0; i < rounded; i++)
		w->bucket[i] = TIMER_NONE;
	return true;
}

void timer_wheel_destroy(struct timer_wheel *w)
{
	free(w->bucket);
	free(w->next);
	free(w->prev);
	free(w->deadline);
	free(w->armed);
	memset(w, 0, sizeof(*w));
}

static void unlink_timer(struct timer_wheel *w, uint32_t id, uint32_t b)
{
	if (w->prev[id] == TIMER_NONE)
		w->bucket[b] = w->next[id];
	else
		w->next[w->prev[id]] = w->next[id];
	if (w->next[id] != TIMER_NONE)
		w->prev[w->next[id]] = w->prev[id];
	w->armed[id] = 0;
	w->armed_count--;
}

void timer_wheel_schedule(struct timer_wheel *w, uint32_t id, uint64_t deadline_ms)
{
	if (id >= w->capacity)
		return;
	timer_wheel_cancel(w, id);
	/* A deadline already due is stored as the next tick so that the bucket
	 * it is linked into can be found again from the deadline alone. */
	w->deadline[id] = deadline_ms < w->next_tick ? w->next_tick : deadline_ms;
	uint32_t b = (uint32_t)(w->deadline[id] & w->slot_mask);
	w->prev[id] = TIMER_NONE;
	w->next[id] = w->bucket[b];
	if (w->bucket[b] != TIMER_NONE)
		w->prev[w->bucket[b]] = id;
	w->bucket[b] = id;
	w->armed[id] = 1;
	w->armed_count++;
}

void timer_wheel_cancel(struct timer_wheel *w, uint32_t id)
{
	if (id >= w->capacity || !w->armed[id])
		return;
	unlink_timer(w, id, (uint32_t)(w->deadline[id] & w->slot_mask));
}

bool timer_wheel_armed(const struct timer_wheel *w, uint32_t id)
{
	return id < w->capacity && w->armed[id];
}

size_t timer_wheel_expire(struct timer_wheel *w, uint64_t now_ms, uint32_t *out, size_t max)
{
	size_t n = 0;
	if (now_ms < w->next_tick || max == 0)
		return 0;
	/* Ticks more than a turn behind share buckets with later ones, so one
	 * sweep of the last turn's worth of buckets sees every due timer. */
	uint64_t turn = (uint64_t)w->slot_mask + 1;
	uint64_t tick = w->next_tick;
	if (now_ms - tick >= turn)
		tick = now_ms - turn + 1;
	for (; tick <= now_ms; tick++) {
		uint32_t b = (uint32_t)(tick & w->slot_mask);
		uint32_t id = w->bucket[b];
		while (id != TIMER_NONE) {
			uint32_t following = w->next[id];
			if (w->deadline[id] <= now_ms) {
				if (n == max) {
					w->next_tick = tick;
					return n;
				}
				unlink_timer(w, id, b);
				out[n++] = id;
			}
			id = following;
		}
	}
	w->next_tick = now_ms + 1;
	return n;
}

uint64_t timer_wheel_next_deadline(const struct timer_wheel *w, uint64_t now_ms, uint64_t horizon_ms)
{
	if (w->armed_count == 0)
		return TIMER_WHEEL_NOTHING_DUE;
	if (w->next_tick <= now_ms)
		return w->next_tick; /* expire has not swept up to now: something may be due already */
	/* A timer sits in the bucket of its deadline (never below next_tick), so the first
	 * tick whose bucket holds a timer of that very deadline is the earliest one. */
	uint64_t turn = (uint64_t)w->slot_mask + 1;
	uint64_t end = now_ms + (horizon_ms < turn ? horizon_ms : turn);
	for (uint64_t tick = w->next_tick; tick < end; tick++) {
		for (uint32_t id = w->bucket[tick & w->slot_mask]; id != TIMER_NONE; id = w->next[id])
			if (w->deadline[id] <= tick)
				return w->deadline[id];
	}
	return TIMER_WHEEL_NOTHING_DUE;
}
