/*
 * Latency histograms for /metrics: counts per fixed bucket (25 us to 2.5 s,
 * roughly 1-2.5-5 a decade) and the sum, cheap enough for the fast path.
 * One thread records (single_writer: plain stores, no locked instruction) or
 * several (shared: atomic adds); any thread reads with relaxed loads.
 */
#ifndef LATENCY_COUNTS_H
#define LATENCY_COUNTS_H

#include <stdint.h>

#define LATENCY_BUCKETS 16

static const uint64_t latency_bounds_ns[LATENCY_BUCKETS] = {
	25000,    50000,    100000,    250000,    500000,    1000000,   2500000,    5000000,
	10000000, 25000000, 50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000,
};

struct latency_counts {
	uint64_t counts[LATENCY_BUCKETS + 1]; /* the last: above every bound */
	uint64_t sum_ns;
};

static inline unsigned latency_bucket(uint64_t ns)
{
	unsigned i = 0;
	while (i < LATENCY_BUCKETS && ns > latency_bounds_ns[i])
		i++;
	return i;
}

/* For a histogram only its owner thread records into. */
static inline void latency_add_single_writer(struct latency_counts *c, uint64_t ns)
{
	uint64_t *slot = &c->counts[latency_bucket(ns)];
	__atomic_store_n(slot, __atomic_load_n(slot, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->sum_ns, __atomic_load_n(&c->sum_ns, __ATOMIC_RELAXED) + ns, __ATOMIC_RELAXED);
}

/* For a histogram several threads record into. */
static inline void latency_add_shared(struct latency_counts *c, uint64_t ns)
{
	__atomic_fetch_add(&c->counts[latency_bucket(ns)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->sum_ns, ns, __ATOMIC_RELAXED);
}

/* Adds what c holds now into total (another thread may be recording into c). */
static inline void latency_accumulate(struct latency_counts *total, const struct latency_counts *c)
{
	for (unsigned i = 0; i <= LATENCY_BUCKETS; i++)
		total->counts[i] += __atomic_load_n(&c->counts[i], __ATOMIC_RELAXED);
	total->sum_ns += __atomic_load_n(&c->sum_ns, __ATOMIC_RELAXED);
}

#endif
