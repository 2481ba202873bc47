#include "velocity.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_pan(const char *pan)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *pan; pan++)
		h = (h ^ (uint8_t)*pan) * 1099511628211ull;
	return h;
}

static struct velocity_slot *find(const struct velocity_table *t, const char *pan)
{
	for (size_t i = hash_pan(pan) & t->mask;; i = (i + 1) & t->mask) {
		struct velocity_slot *s = &t->slots[i];
		if (!s->pan[0] || strcmp(s->pan, pan) == 0)
			return s;
	}
}

bool velocity_init(struct velocity_table *t, size_t expected_cards)
{
	size_t capacity = 64;
	while (capacity < expected_cards * 2)
		capacity *= 2;
	t->slots = calloc(capacity, sizeof(*t->slots));
	t->mask = capacity - 1;
	t->used = 0;
	return t->slots != NULL;
}

void velocity_free(struct velocity_table *t)
{
	free(t->slots);
	t->slots = NULL;
}

uint32_t velocity_count(const struct velocity_table *t, const char *pan, int64_t now_s)
{
	if (!t->slots)
		return 0;
	const struct velocity_slot *s = find(t, pan);
	if (!s->pan[0] || now_s - s->window_start >= VELOCITY_WINDOW_S)
		return 0;
	return s->count;
}

static bool grow(struct velocity_table *t)
{
	size_t capacity = (t->mask + 1) * 2;
	struct velocity_slot *slots = calloc(capacity, sizeof(*slots));
	if (!slots)
		return false;
	struct velocity_table bigger = {slots, capacity - 1, t->used};
	for (size_t i = 0; i <= t->mask; i++)
		if (t->slots[i].pan[0])
			*find(&bigger, t->slots[i].pan) = t->slots[i];
	free(t->slots);
	*t = bigger;
	return true;
}

bool velocity_record(struct velocity_table *t, const char *pan, int64_t now_s)
{
	if (!t->slots || strlen(pan) > STORE_PAN_MAX || !pan[0])
		return false;
	/* Keep the load under 3/4 so that probes stay short. */
	if ((t->used + 1) * 4 > (t->mask + 1) * 3 && !grow(t))
		return false;
	struct velocity_slot *s = find(t, pan);
	if (!s->pan[0]) {
		strcpy(s->pan, pan);
		s->window_start = now_s;
		s->count = 0;
		t->used++;
	}
	if (now_s - s->window_start >= VELOCITY_WINDOW_S) {
		s->window_start = now_s;
		s->count = 0;
	}
	s->count++;
	return true;
}
