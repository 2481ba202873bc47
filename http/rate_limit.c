#include "rate_limit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "mix64.h"
#include "token_bucket.h"

struct key_slot {
	uint64_t id; /* the key id's 16 hex digits as a number */
	bool used;
	struct token_bucket bucket;
};

struct address_slot {
	uint8_t addr[16]; /* IPv6, or IPv4-mapped */
	bool used;
	uint32_t failures;
	uint64_t window_start_us;
};

struct rate_limiter {
	struct rate_limit_config config;
	uint64_t seed;
	pthread_mutex_t lock;
	uint32_t key_sets, address_sets; /* powers of two */
	struct key_slot *keys;
	struct address_slot *addresses;
	_Atomic uint64_t limited[RATE_LIMIT_SCOPES];
	_Atomic uint64_t auth_failures, auth_throttled, key_evictions, address_evictions, mtls_refused;
};

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint32_t sets_for(uint32_t slots)
{
	if (slots == 0)
		slots = 4096;
	uint32_t sets = 1;
	while (sets * RATE_LIMIT_WAYS < slots && sets < (1u << 24))
		sets <<= 1;
	return sets;
}

struct rate_limiter *rate_limiter_new(const struct rate_limit_config *config)
{
	struct rate_limiter *l = calloc(1, sizeof *l);
	if (l == NULL)
		return NULL;
	l->config = *config;
	for (int i = 0; i < RATE_LIMIT_SCOPES; i++) {
		struct rate_limit_rule *r = &l->config.by_scope[i];
		if (r->per_minute > TOKEN_BUCKET_MAX_RATE)
			r->per_minute = TOKEN_BUCKET_MAX_RATE;
		if (r->burst > TOKEN_BUCKET_MAX_BURST)
			r->burst = TOKEN_BUCKET_MAX_BURST;
		if (r->burst == 0)
			r->burst = 1; /* a limited scope may always make one call per interval */
	}
	if (l->config.auth_failure_window_s == 0)
		l->config.auth_failure_window_s = 1;
	l->key_sets = sets_for(config->key_slots);
	l->address_sets = sets_for(config->address_slots);
	l->keys = calloc((size_t)l->key_sets * RATE_LIMIT_WAYS, sizeof *l->keys);
	l->addresses = calloc((size_t)l->address_sets * RATE_LIMIT_WAYS, sizeof *l->addresses);
	if (l->keys == NULL || l->addresses == NULL || pthread_mutex_init(&l->lock, NULL) != 0) {
		free(l->keys);
		free(l->addresses);
		free(l);
		return NULL;
	}
	/* The set index must not be predictable from outside (ids and addresses are chosen by callers). */
	if (getrandom(&l->seed, sizeof l->seed, GRND_NONBLOCK) != (ssize_t)sizeof l->seed) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		l->seed = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)l);
	}
	return l;
}

void rate_limiter_free(struct rate_limiter *l)
{
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l->keys);
	free(l->addresses);
	free(l);
}

int rate_limit_scope_index(unsigned scope)
{
	switch (scope) {
	case 1u << 0: return 0;
	case 1u << 1: return 1;
	case 1u << 2: return 2;
	case 1u << 3: return 3;
	default: return -1;
	}
}

const char *rate_limit_scope_name(int index)
{
	static const char *const names[RATE_LIMIT_SCOPES] = {"customer", "bank", "network", "operator"};
	return index >= 0 && index < RATE_LIMIT_SCOPES ? names[index] : "?";
}

/* The id's hex digits as a number; an id that is not 16 hex digits is hashed instead (FNV-1a). */
static uint64_t key_number(const char *key_id)
{
	uint64_t v = 0, fnv = 0xcbf29ce484222325ull;
	size_t n = 0;
	bool hex = true;
	for (; key_id[n]; n++) {
		unsigned char c = (unsigned char)key_id[n];
		fnv = (fnv ^ c) * 0x100000001b3ull;
		unsigned d = 16u;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10u;
		if (d == 16u)
			hex = false;
		v = v << 4 | (d & 15u);
	}
	return hex && n == 16 ? v : fnv;
}

uint32_t rate_limiter_take(struct rate_limiter *l, const char *key_id, unsigned scope, uint64_t now_us)
{
	int s = rate_limit_scope_index(scope);
	if (l == NULL || s < 0 || key_id == NULL)
		return 0;
	const struct rate_limit_rule *rule = &l->config.by_scope[s];
	if (rule->per_minute == 0)
		return 0;
	uint64_t id = key_number(key_id);
	struct key_slot *set = &l->keys[(mix64(id ^ l->seed) & (l->key_sets - 1)) * RATE_LIMIT_WAYS];
	pthread_mutex_lock(&l->lock);
	struct key_slot *slot = NULL, *victim = &set[0];
	for (unsigned w = 0; w < RATE_LIMIT_WAYS && slot == NULL; w++) {
		if (set[w].used && set[w].id == id)
			slot = &set[w];
		else if (!set[w].used)
			victim = victim->used ? &set[w] : victim;
		else if (victim->used && set[w].bucket.last_us < victim->bucket.last_us)
			victim = &set[w]; /* least recently used: most likely full again anyway */
	}
	if (slot == NULL) {
		if (victim->used)
			count(&l->key_evictions);
		slot = victim;
		slot->used = true;
		slot->id = id;
		token_bucket_fill(&slot->bucket, rule->burst, now_us);
	}
	uint32_t wait = token_bucket_take(&slot->bucket, rule->per_minute, rule->burst, now_us);
	pthread_mutex_unlock(&l->lock);
	if (wait)
		count(&l->limited[s]);
	return wait;
}

static void address_bytes(const struct sockaddr *addr, uint8_t out[16])
{
	memset(out, 0, 16);
	if (addr && addr->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a->sin_addr, 4);
	} else if (addr && addr->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
	}
}

static struct address_slot *address_set(struct rate_limiter *l, const uint8_t addr[16])
{
	uint64_t a, b;
	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	uint64_t h = mix64(mix64(a ^ l->seed) ^ b);
	return &l->addresses[(h & (l->address_sets - 1)) * RATE_LIMIT_WAYS];
}

static bool window_over(const struct rate_limiter *l, const struct address_slot *s, uint64_t now_us)
{
	uint64_t window_us = (uint64_t)l->config.auth_failure_window_s * 1000000u;
	return now_us < s->window_start_us || now_us - s->window_start_us >= window_us;
}

static bool blocked(const struct rate_limiter *l, const struct address_slot *s, uint64_t now_us)
{
	return s->used && !window_over(l, s, now_us) && s->failures >= l->config.auth_failure_limit;
}

static struct address_slot *find_address(struct address_slot *set, const uint8_t addr[16])
{
	for (unsigned w = 0; w < RATE_LIMIT_WAYS; w++)
		if (set[w].used && memcmp(set[w].addr, addr, 16) == 0)
			return &set[w];
	return NULL;
}

uint32_t rate_limiter_address_blocked(struct rate_limiter *l, const struct sockaddr *addr, uint64_t now_us)
{
	if (l == NULL || l->config.auth_failure_limit == 0)
		return 0;
	uint8_t key[16];
	address_bytes(addr, key);
	uint32_t wait = 0;
	pthread_mutex_lock(&l->lock);
	struct address_slot *s = find_address(address_set(l, key), key);
	if (s && blocked(l, s, now_us)) {
		uint64_t end_us = s->window_start_us + (uint64_t)l->config.auth_failure_window_s * 1000000u;
		wait = (uint32_t)((end_us - now_us + 999999u) / 1000000u);
		if (wait == 0)
			wait = 1;
	}
	pthread_mutex_unlock(&l->lock);
	if (wait)
		count(&l->auth_throttled);
	return wait;
}

/* Which way a new address takes: free or over, else fewest failures; blocked ones last, soonest-ending first. */
static struct address_slot *address_victim(const struct rate_limiter *l, struct address_slot *set, uint64_t now_us)
{
	struct address_slot *best = NULL;
	for (unsigned w = 0; w < RATE_LIMIT_WAYS; w++) {
		struct address_slot *s = &set[w];
		if (!s->used || window_over(l, s, now_us))
			return s;
		if (best == NULL) {
			best = s;
			continue;
		}
		bool sb = blocked(l, s, now_us), bb = blocked(l, best, now_us);
		if (sb != bb) {
			if (!sb)
				best = s;
		} else if (s->failures < best->failures ||
			   (s->failures == best->failures && s->window_start_us < best->window_start_us)) {
			best = s;
		}
	}
	return best;
}

void rate_limiter_auth_failed(struct rate_limiter *l, const struct sockaddr *addr, uint64_t now_us)
{
	if (l == NULL || l->config.auth_failure_limit == 0)
		return;
	uint8_t key[16];
	address_bytes(addr, key);
	pthread_mutex_lock(&l->lock);
	struct address_slot *set = address_set(l, key);
	struct address_slot *s = find_address(set, key);
	if (s == NULL) {
		s = address_victim(l, set, now_us);
		if (s->used && !window_over(l, s, now_us))
			count(&l->address_evictions);
		memset(s, 0, sizeof *s);
		s->used = true;
		memcpy(s->addr, key, 16);
		s->window_start_us = now_us;
	} else if (window_over(l, s, now_us)) {
		s->failures = 0;
		s->window_start_us = now_us;
	}
	if (s->failures < UINT32_MAX)
		s->failures++;
	pthread_mutex_unlock(&l->lock);
	count(&l->auth_failures);
}

void rate_limiter_mtls_refused(struct rate_limiter *l)
{
	if (l)
		count(&l->mtls_refused);
}

void rate_limiter_stats(const struct rate_limiter *l, struct rate_limit_stats *out)
{
	memset(out, 0, sizeof *out);
	if (l == NULL)
		return;
	for (int i = 0; i < RATE_LIMIT_SCOPES; i++)
		out->limited[i] = atomic_load_explicit(&l->limited[i], memory_order_relaxed);
	out->auth_failures = atomic_load_explicit(&l->auth_failures, memory_order_relaxed);
	out->auth_throttled = atomic_load_explicit(&l->auth_throttled, memory_order_relaxed);
	out->key_evictions = atomic_load_explicit(&l->key_evictions, memory_order_relaxed);
	out->address_evictions = atomic_load_explicit(&l->address_evictions, memory_order_relaxed);
	out->mtls_refused = atomic_load_explicit(&l->mtls_refused, memory_order_relaxed);
}

void rate_limiter_occupancy(const struct rate_limiter *l, uint32_t *keys, uint32_t *addresses)
{
	uint32_t k = 0, a = 0;
	struct rate_limiter *m = (struct rate_limiter *)l; /* the lock only */
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < (size_t)l->key_sets * RATE_LIMIT_WAYS; i++)
		k += l->keys[i].used;
	for (size_t i = 0; i < (size_t)l->address_sets * RATE_LIMIT_WAYS; i++)
		a += l->addresses[i].used;
	pthread_mutex_unlock(&m->lock);
	*keys = k;
	*addresses = a;
}
