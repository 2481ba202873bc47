/*
 * Rate limits of the HTTP control planes (docs/security.md, "Rate limits"):
 *
 * - a token bucket per API key id, its rate and burst by the key's scope;
 * - per source address, a count of failed authentications in a fixed window:
 *   at the limit, the address is refused (429) until its window ends, whatever
 *   key it presents, so a guesser learns nothing more until then.
 *
 * Both live in fixed-size tables allocated once (no allocation per request):
 * 8-way set-associative, the set chosen by a hash keyed with a random seed
 * taken at start, so that nobody can aim many ids or addresses at one set.
 * A full set evicts: for keys the least recently used bucket; for addresses
 * an entry whose window is over, else the one with the fewest failures, and a
 * blocked address only when every way of its set is blocked (so an attacker
 * must spend `limit` failures per address it uses to push one out). One mutex
 * guards both: every operation is a few comparisons over one set, O(1), and
 * the agents' servers run up to a few threads (http_api.h).
 */
#ifndef RATE_LIMIT_H
#define RATE_LIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#define RATE_LIMIT_SCOPES 4 /* customer, bank, network, operator: enum http_scope bit 0..3 */
#define RATE_LIMIT_WAYS 8

struct rate_limit_rule {
	uint32_t per_minute; /* sustained requests a minute; 0: no limit */
	uint32_t burst;      /* requests at once from a full bucket (1.. when limited) */
};

struct rate_limit_config {
	struct rate_limit_rule by_scope[RATE_LIMIT_SCOPES]; /* indexed by rate_limit_scope_index */
	uint32_t auth_failure_limit;    /* failed authentications per window and address; 0: no throttling */
	uint32_t auth_failure_window_s; /* the window (1..) */
	uint32_t key_slots;             /* table sizes, rounded up to a power of two >= RATE_LIMIT_WAYS; */
	uint32_t address_slots;         /* 0: 4096 each */
};

/* What happened so far (monotonic counts). */
struct rate_limit_stats {
	uint64_t limited[RATE_LIMIT_SCOPES]; /* 429s because a key of that scope was over its rate */
	uint64_t auth_failures;              /* failed authentications counted against an address */
	uint64_t auth_throttled;             /* 429s because the address had too many failures */
	uint64_t key_evictions, address_evictions; /* a table set was full */
	uint64_t mtls_refused; /* 401s: a bank or network key without its agent's client certificate */
};

struct rate_limiter;

/* The tables are allocated here, once; NULL when out of memory. */
struct rate_limiter *rate_limiter_new(const struct rate_limit_config *config);
void rate_limiter_free(struct rate_limiter *l);

/* 0..3 for one enum http_scope bit (customer, bank, network, operator); -1 for anything else. */
int rate_limit_scope_index(unsigned scope);
const char *rate_limit_scope_name(int index);

/*
 * One request by an authenticated key (its 16 hex id) of `scope`: 0 to serve
 * it, else the seconds to wait (Retry-After). A refused request costs nothing.
 */
uint32_t rate_limiter_take(struct rate_limiter *l, const char *key_id, unsigned scope, uint64_t now_us);

/* 0 when `addr` may try to authenticate now, else the seconds until its window ends. */
uint32_t rate_limiter_address_blocked(struct rate_limiter *l, const struct sockaddr *addr, uint64_t now_us);
/* Counts a failed authentication (unknown, wrong, expired, revoked key) from `addr`. */
void rate_limiter_auth_failed(struct rate_limiter *l, const struct sockaddr *addr, uint64_t now_us);

/* A bank or network key refused for want of its agent's client certificate (mutual TLS): only counted
 * here, beside the listener's other refusals, and not against the address (a misconfigured agent would
 * otherwise lock its own address out). NULL: nothing. */
void rate_limiter_mtls_refused(struct rate_limiter *l);
void rate_limiter_stats(const struct rate_limiter *l, struct rate_limit_stats *out);
/* Entries in use in each table (tests: the tables stay within their size). */
void rate_limiter_occupancy(const struct rate_limiter *l, uint32_t *keys, uint32_t *addresses);

#endif
