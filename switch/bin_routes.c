#include "bin_routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udp_port.h"

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static uint64_t digits_value(const char *s, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return v;
}

static int compare_entries(const void *a, const void *b)
{
	const struct bin_range_entry *x = a, *y = b;
	return x->low < y->low ? -1 : x->low > y->low ? 1 : 0;
}

static bool check_spec(const struct route_spec *s, size_t i, char *err, size_t err_size)
{
	size_t ll = strnlen(s->low, sizeof(s->low)), hl = strnlen(s->high, sizeof(s->high));
	if (ll < BIN_MIN_DIGITS || ll > BIN_MAX_DIGITS || !all_digits(s->low, ll)) {
		snprintf(err, err_size, "route %zu: low '%.*s' is not 6 to 11 digits", i, (int)ll, s->low);
		return false;
	}
	if (hl != ll || !all_digits(s->high, hl)) {
		snprintf(err, err_size, "route %zu: high '%.*s' is not %zu digits like low", i, (int)hl,
			 s->high, ll);
		return false;
	}
	if (strcmp(s->low, s->high) > 0) {
		snprintf(err, err_size, "route %zu: low %s is above high %s", i, s->low, s->high);
		return false;
	}
	if (s->bank[0] == '\0') {
		snprintf(err, err_size, "route %zu: no bank", i);
		return false;
	}
	return true;
}

struct route_table *route_table_build(const struct route_spec *specs, size_t count, uint64_t version,
				      char *err, size_t err_size)
{
	for (size_t i = 0; i < count; i++)
		if (!check_spec(&specs[i], i, err, err_size))
			return NULL;

	struct route_table *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	t->version = version;
	t->banks = calloc(count ? count : 1, sizeof(*t->banks));
	t->specs = calloc(count ? count : 1, sizeof(*t->specs));
	t->entries = calloc(count ? count : 1, sizeof(*t->entries));
	if (!t->banks || !t->specs || !t->entries) {
		snprintf(err, err_size, "out of memory");
		route_table_free(t);
		return NULL;
	}
	if (count)
		memcpy(t->specs, specs, count * sizeof(*specs));
	t->spec_count = count;

	/* Distinct (bank, endpoint) pairs; the same bank name must keep one endpoint. */
	for (size_t i = 0; i < count; i++) {
		size_t b = 0;
		for (; b < t->bank_count; b++)
			if (strcmp(t->banks[b].name, specs[i].bank) == 0)
				break;
		if (b == t->bank_count) {
			struct route_bank *rb = &t->banks[t->bank_count];
			snprintf(rb->name, sizeof(rb->name), "%s", specs[i].bank);
			rb->endpoint = specs[i].iso;
			if (endpoint_to_sockaddr(specs[i].iso.host, specs[i].iso.port, &rb->iso) != 0 ||
			    specs[i].iso.port == 0) {
				snprintf(err, err_size, "route %zu: bank %s endpoint '%s:%u' is not an IPv4 address and port",
					 i, specs[i].bank, specs[i].iso.host, specs[i].iso.port);
				route_table_free(t);
				return NULL;
			}
			t->bank_count++;
		} else if (strcmp(t->banks[b].endpoint.host, specs[i].iso.host) != 0 ||
			   t->banks[b].endpoint.port != specs[i].iso.port) {
			snprintf(err, err_size, "route %zu: bank %s given two endpoints (%s:%u and %s:%u)", i,
				 specs[i].bank, t->banks[b].endpoint.host, t->banks[b].endpoint.port,
				 specs[i].iso.host, specs[i].iso.port);
			route_table_free(t);
			return NULL;
		}
	}

	/* Group by length (counting sort), then sort each group by low. */
	for (size_t i = 0; i < count; i++)
		t->count[strlen(specs[i].low)]++;
	size_t at = 0;
	for (int len = BIN_MIN_DIGITS; len <= BIN_MAX_DIGITS; len++) {
		t->first[len] = at;
		at += t->count[len];
	}
	size_t fill[BIN_MAX_DIGITS + 1] = {0};
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(specs[i].low);
		struct bin_range_entry *e = &t->entries[t->first[len] + fill[len]++];
		e->low = digits_value(specs[i].low, len);
		e->high = digits_value(specs[i].high, len);
		e->spec = (uint32_t)i;
		for (uint32_t b = 0; b < t->bank_count; b++)
			if (strcmp(t->banks[b].name, specs[i].bank) == 0)
				e->bank = b;
	}
	for (int len = BIN_MIN_DIGITS; len <= BIN_MAX_DIGITS; len++) {
		struct bin_range_entry *group = &t->entries[t->first[len]];
		qsort(group, t->count[len], sizeof(*group), compare_entries);
		for (size_t i = 1; i < t->count[len]; i++) {
			if (group[i].low <= group[i - 1].high) {
				snprintf(err, err_size, "routes %u and %u overlap (%s-%s and %s-%s)",
					 group[i - 1].spec, group[i].spec, specs[group[i - 1].spec].low,
					 specs[group[i - 1].spec].high, specs[group[i].spec].low,
					 specs[group[i].spec].high);
				route_table_free(t);
				return NULL;
			}
		}
	}
	return t;
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	free(t->banks);
	free(t->specs);
	free(t->entries);
	free(t);
}

bool route_table_lookup(const struct route_table *t, const char *pan, size_t pan_len,
			struct route_hit *hit)
{
	if (pan_len < BIN_MIN_DIGITS)
		return false;
	size_t longest = pan_len < BIN_MAX_DIGITS ? pan_len : BIN_MAX_DIGITS;
	/* The digit check and the prefixes in one pass over the leading digits. */
	uint64_t prefix[BIN_MAX_DIGITS + 1];
	uint64_t v = 0;
	unsigned bad = 0;
	for (size_t i = 0; i < longest; i++) {
		unsigned d = (unsigned)(unsigned char)pan[i] - '0';
		bad |= d > 9;
		v = v * 10 + d;
		prefix[i + 1] = v;
	}
	if (bad)
		return false;
	return route_table_lookup_prefixes(t, prefix, longest, hit);
}

bool route_table_lookup_prefixes(const struct route_table *t, const uint64_t *prefix, size_t longest,
				 struct route_hit *hit)
{
	if (longest > BIN_MAX_DIGITS)
		longest = BIN_MAX_DIGITS;
	for (size_t len = longest; len >= BIN_MIN_DIGITS; len--) {
		size_t n = t->count[len];
		if (n == 0)
			continue;
		const struct bin_range_entry *group = &t->entries[t->first[len]];
		uint64_t key = prefix[len];
		/* Last range whose low is <= key. */
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (group[mid].low <= key)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0 && key <= group[lo - 1].high) {
			hit->bank = &t->banks[group[lo - 1].bank];
			hit->bin_length = (uint8_t)len;
			return true;
		}
	}
	return false;
}

size_t route_specs_from_config(const struct ecosystem_config *c, const char *network,
			       struct route_spec *out, size_t capacity)
{
	size_t n = 0;
	for (size_t b = 0; b < c->bank_count; b++) {
		const struct cfg_bank *bank = &c->banks[b];
		for (size_t m = 0; m < bank->network_count; m++) {
			const struct cfg_bank_network *member = &bank->networks[m];
			if (strcmp(member->network, network) != 0)
				continue;
			for (size_t r = 0; r < member->bin_count; r++) {
				if (n < capacity) {
					struct route_spec *s = &out[n];
					memset(s, 0, sizeof(*s));
					snprintf(s->low, sizeof(s->low), "%s", member->bins[r].low);
					snprintf(s->high, sizeof(s->high), "%s", member->bins[r].high);
					snprintf(s->bank, sizeof(s->bank), "%s", bank->name);
					s->iso = cfg_bank_switch_endpoint(bank); /* its TCP listener when link tcp */
				}
				n++;
			}
		}
	}
	return n;
}
