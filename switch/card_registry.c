#include "card_registry.h"

#include <stdlib.h>
#include <string.h>

#include "card_population.h"

static bool pan_number(const char *pan, size_t len, uint64_t *out)
{
	if (len < 12 || len > 19)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (pan[i] < '0' || pan[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(pan[i] - '0');
	}
	*out = v;
	return true;
}

static size_t hash_pan(uint64_t pan, uint8_t len)
{
	uint64_t h = (pan ^ ((uint64_t)len << 59)) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h ^ (h >> 29));
}

struct card_registry *card_registry_create(size_t expected)
{
	size_t slots = 16;
	while (slots < expected * 2)
		slots <<= 1;
	struct card_registry *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->slots = calloc(slots, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return NULL;
	}
	r->mask = slots - 1;
	return r;
}

void card_registry_free(struct card_registry *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

static struct card_entry *probe(const struct card_registry *r, uint64_t pan, uint8_t len)
{
	for (size_t i = hash_pan(pan, len) & r->mask, n = 0; n <= r->mask; i = (i + 1) & r->mask, n++) {
		struct card_entry *e = &r->slots[i];
		if (e->pan_len == 0 || (e->pan == pan && e->pan_len == len))
			return e;
	}
	return NULL;
}

bool card_registry_put(struct card_registry *r, const char *pan, size_t pan_len, const char *expiry,
		       enum card_state state)
{
	uint64_t v;
	if (!pan_number(pan, pan_len, &v) || strlen(expiry) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (expiry[i] < '0' || expiry[i] > '9')
			return false;
	/* Keep the table at most half full so that probes stay short. */
	if ((r->count + 1) * 2 > r->mask + 1)
		return false;
	struct card_entry *e = probe(r, v, (uint8_t)pan_len);
	if (!e)
		return false;
	if (e->pan_len == 0)
		r->count++;
	e->pan = v;
	e->pan_len = (uint8_t)pan_len;
	e->state = (uint8_t)state;
	memcpy(e->expiry, expiry, 4);
	return true;
}

const struct card_entry *card_registry_find(const struct card_registry *r, const char *pan, size_t pan_len)
{
	uint64_t v;
	if (!pan_number(pan, pan_len, &v))
		return NULL;
	return card_registry_find_number(r, v, pan_len);
}

const struct card_entry *card_registry_find_number(const struct card_registry *r, uint64_t pan, size_t pan_len)
{
	if (pan_len < 12 || pan_len > 19)
		return NULL;
	const struct card_entry *e = probe(r, pan, (uint8_t)pan_len);
	return e && e->pan_len ? e : NULL;
}

struct card_registry *card_registry_clone(const struct card_registry *r, size_t extra)
{
	struct card_registry *c = card_registry_create(r->count + extra);
	if (!c)
		return NULL;
	for (size_t i = 0; i <= r->mask; i++) {
		const struct card_entry *e = &r->slots[i];
		if (e->pan_len == 0)
			continue;
		struct card_entry *slot = probe(c, e->pan, e->pan_len);
		*slot = *e;
		c->count++;
	}
	return c;
}

struct card_registry *card_registry_from_population(const struct ecosystem_config *c, const char *network)
{
	size_t total = 0;
	for (size_t b = 0; b < c->bank_count; b++)
		total += population_bank_card_count(c, &c->banks[b]);
	struct card_registry *r = card_registry_create(total + 1024);
	if (!r)
		return NULL;
	for (size_t b = 0; b < c->bank_count; b++) {
		size_t n = population_bank_card_count(c, &c->banks[b]);
		for (size_t k = 0; k < n; k++) {
			struct population_card card;
			population_bank_card(c, &c->banks[b], k, &card);
			if (strcmp(card.network, network) != 0)
				continue;
			if (!card_registry_put(r, card.pan, strlen(card.pan), card.expiry, CARD_ACTIVE)) {
				card_registry_free(r);
				return NULL;
			}
		}
	}
	return r;
}
