/*
 * The cost of the HTTP rate limits per request (docs/benchmarks.md): what
 * http_api adds to an authenticated request (one rate_limiter_address_blocked,
 * one rate_limiter_take) with 1,000 keys and addresses in use, on one thread
 * and on two at once (the bank serves HTTP on 4 threads; the limiter has one
 * mutex). Time passed in from the clock, as the server does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rate_limit.h"

#define KEYS 1000

static struct rate_limiter *limiter;
static char ids[KEYS][17];
static long iterations = 2000000;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *work(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	uint32_t refused = 0;
	for (long i = 0; i < iterations; i++) {
		unsigned k = (unsigned)(i * 7919 + seed) % KEYS;
		struct sockaddr_in a = {.sin_family = AF_INET};
		a.sin_addr.s_addr = htonl(0x0a000000u + k);
		uint64_t now_us = now_ns() / 1000u;
		refused += rate_limiter_address_blocked(limiter, (const struct sockaddr *)&a, now_us) != 0;
		refused += rate_limiter_take(limiter, ids[k], 1u, now_us) != 0;
	}
	return (void *)(uintptr_t)refused;
}

static double run(int threads)
{
	pthread_t t[2];
	uint64_t t0 = now_ns();
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, work, (void *)(uintptr_t)(i * 13));
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (double)(now_ns() - t0) / (double)iterations; /* ns per request per thread */
}

int main(int argc, char **argv)
{
	int rounds = 5;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--rounds") == 0)
			rounds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--iterations") == 0)
			iterations = atol(argv[i + 1]);
	}
	if (rounds < 1 || rounds > 20 || iterations < 1000) {
		fprintf(stderr, "usage: rate_limit_bench [--rounds 1..20] [--iterations 1000..]\n");
		return 2;
	}
	/* Limits nobody reaches here (the cost of the check, not of refusals); 1,000 addresses with failures. */
	struct rate_limit_config c = {
		.by_scope = {{60000000, 1000000}, {60000000, 1000000}, {60000000, 1000000}, {0, 0}},
		.auth_failure_limit = 1000000,
		.auth_failure_window_s = 3600,
	};
	limiter = rate_limiter_new(&c);
	if (!limiter)
		return 1;
	for (unsigned k = 0; k < KEYS; k++) {
		snprintf(ids[k], sizeof ids[k], "%016x", k * 2654435761u);
		struct sockaddr_in a = {.sin_family = AF_INET};
		a.sin_addr.s_addr = htonl(0x0a000000u + k);
		rate_limiter_auth_failed(limiter, (const struct sockaddr *)&a, now_ns() / 1000u);
	}
	for (int r = 0; r < rounds; r++)
		printf("round %d: 1 thread %.1f ns/request, 2 threads %.1f ns/request each\n", r + 1, run(1), run(2));
	rate_limiter_free(limiter);
	return 0;
}
