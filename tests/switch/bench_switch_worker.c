/*
 * Micro benchmark of one switch worker, without sockets: a reflector port
 * feeds the worker 1100s (each with a fresh key), turns every 1100 the worker
 * forwards into the bank's 1110, and counts the 1110s the worker relays back.
 * Reports nanoseconds per authorization (two messages through the switch),
 * minus the reflector's own cost (measured alone), on one thread.
 *
 *   bench_switch_worker [authorizations]     (default 2000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "card_population.h"
#include "datagram_frames.h"
#include "message_builder.h"
#include "switch_core.h"
#include "test_pan_keys.h"
#include "switch_worker.h"
#include "worker_test_config.h"

#define RING 256

static const char yaml[] = WORKER_TEST_CONFIG_PREFIX
	"    bank_timeout_ms: 60000\n"
	"loadgen:\n"
	"  cards_per_bank: 1000\n";

struct reflector {
	uint8_t frames[RING][512];
	size_t lengths[RING];
	struct sockaddr_in peers[RING];
	size_t head, tail;           /* inbound queue */
	uint8_t request[512];        /* template 1100 */
	size_t request_len, stan_at, rrn_at;
	uint64_t next_key, issued, completed, limit;
	struct sockaddr_in holder, bank;
};

static void digits(uint8_t *at, size_t n, uint64_t v)
{
	for (size_t i = n; i-- > 0; v /= 10)
		at[i] = (uint8_t)('0' + v % 10);
}

static void push(struct reflector *r, const struct sockaddr_in *peer, const uint8_t *data, size_t len)
{
	size_t i = r->tail++ % RING;
	memcpy(r->frames[i], data, len);
	r->lengths[i] = len;
	r->peers[i] = *peer;
}

static void push_request(struct reflector *r)
{
	if (r->issued == r->limit)
		return;
	uint8_t frame[512];
	memcpy(frame, r->request, r->request_len);
	uint64_t k = r->next_key++;
	digits(frame + r->stan_at, 6, k % 1000000);
	digits(frame + r->rrn_at, 12, k);
	push(r, &r->holder, frame, r->request_len);
	r->issued++;
}

/* The bank's side: one 1100 (no header) in, its framed 1110 out (decode, add DE 39, encode). */
static size_t bank_answer(const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
{
	struct iso_msg m;
	if (iso_decode(&iso_profile_ascii, msg, len, &m, NULL) != ISO_OK)
		return 0;
	m.mti = 1110;
	iso_clear(&m, 14);
	iso_clear(&m, 22);
	iso_clear(&m, 24);
	iso_clear(&m, 42);
	iso_set(&m, 39, "000", 3);
	size_t n = 0;
	if (iso_encode(&iso_profile_ascii, &m, out + 2, cap - 2, &n, NULL) != ISO_OK)
		return 0;
	frame_write_header(FRAME_HEADER_BINARY2, n, out);
	return n + 2;
}

static int reflector_rx(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
{
	(void)q;
	struct reflector *r = p->impl;
	int got = 0;
	for (; got < n && r->head != r->tail; got++, r->head++) {
		size_t i = r->head % RING;
		memcpy(d[got].data, r->frames[i], r->lengths[i]);
		d[got].length = r->lengths[i];
		d[got].peer = r->peers[i];
	}
	return got;
}

static int reflector_tx(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n)
{
	(void)q;
	struct reflector *r = p->impl;
	/* The switch packs every frame due to one peer into one datagram. */
	for (int i = 0; i < n; i++) {
		struct datagram_frames frames;
		const uint8_t *msg;
		size_t len;
		if (!datagram_frames_open(&frames, d[i].data, d[i].length))
			continue;
		while (datagram_frames_next(&frames, &msg, &len)) {
			if (d[i].peer.sin_port == r->bank.sin_port) {
				uint8_t out[512];
				size_t answer = bank_answer(msg, len, out, sizeof(out));
				if (answer)
					push(r, &r->bank, out, answer);
			} else {
				r->completed++;
				push_request(r);
			}
		}
	}
	return n;
}

static void reflector_wait(struct dgram_port *p, uint16_t q, int us)
{
	(void)p, (void)q, (void)us;
}

static void reflector_close(struct dgram_port *p)
{
	(void)p;
}

static const struct dgram_port_ops reflector_ops = {
	.rx_burst = reflector_rx, .tx_burst = reflector_tx, .wait = reflector_wait, .close = reflector_close};

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
	static struct ecosystem_config cfg;
	char err[256];
	if (!ecosystem_config_parse(yaml, sizeof(yaml) - 1, "bench", &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* The switch's store-and-forward queue needs a directory of its own (empty: nothing times out here). */
	char saf_dir[] = "/tmp/iso-bench-switch-worker-XXXXXX";
	if (!mkdtemp(saf_dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(cfg.networks[0].lmdb_path, sizeof(cfg.networks[0].lmdb_path), "%s", saf_dir);
	/* Throwaway PAN keys for the store-and-forward queue's seals. */
	if (!test_pan_keys_make(saf_dir, cfg.networks[0].pan_key_file, sizeof(cfg.networks[0].pan_key_file)))
		abort();
	static struct reflector r;
	endpoint_to_sockaddr("127.0.0.1", 40000, &r.holder);
	endpoint_to_sockaddr("127.0.0.1", 9302, &r.bank);
	r.limit = total;
	struct population_card c;
	population_bank_card(&cfg, &cfg.banks[0], 7, &c);
	struct test_msg t;
	tm_authorization(&t, c.pan, c.expiry, "000000", "000000001000");
	tm_set(&t, 37, "000000000000");
	r.request_len = tm_encode(&t, r.request, sizeof(r.request));
	struct iso_msg decoded;
	tm_decode_framed(r.request, r.request_len, &decoded);
	r.stan_at = (size_t)(decoded.fields[11].data - r.request);
	r.rrn_at = (size_t)(decoded.fields[37].data - r.request);

	/* The reflector alone: what one bank answer costs the harness. */
	uint8_t out[512];
	double h0 = seconds();
	size_t sink = 0;
	for (int i = 0; i < 200000; i++)
		sink += bank_answer(r.request + 2, r.request_len - 2, out, sizeof(out));
	double harness_ns = (seconds() - h0) / 200000 * 1e9;

	struct dgram_port port = {.ops = &reflector_ops, .impl = &r, .queue_count = 1};
	struct switch_core *s = switch_core_create(&cfg, NULL, "mastercard", &port, 4096, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rcu_register_thread();
	for (int i = 0; i < 64; i++) /* requests in flight */
		push_request(&r);
	struct switch_worker *w = s->workers[0];
	double t0 = seconds();
	uint64_t now = w->now_ms;
	/* Bounded: a harness that stops answering ends the run instead of spinning. */
	uint64_t idle_polls = 0;
	while (r.completed < total && idle_polls < 1000000) {
		idle_polls = switch_worker_poll(w, now) ? 0 : idle_polls + 1;
		rcu_quiescent_state();
	}
	if (r.completed < total) {
		fprintf(stderr, "bench_switch_worker: stalled after %llu of %llu authorizations\n",
			(unsigned long long)r.completed, (unsigned long long)total);
		rcu_unregister_thread();
		switch_core_destroy(s);
		return 1;
	}
	double elapsed = seconds() - t0;
	rcu_unregister_thread();
	struct switch_counters sum;
	struct switch_gauges g;
	switch_core_counters(s, &sum, &g);
	double per_auth = elapsed / (double)total * 1e9;
	printf("authorizations %llu (approved %llu) in %.3f s: %.0f ns per authorization with the harness, "
	       "harness %.0f ns, switch %.0f ns per authorization (two messages), %.0f per second on one worker\n",
	       (unsigned long long)total, (unsigned long long)sum.approved, elapsed, per_auth, harness_ns,
	       per_auth - harness_ns, 1e9 / (per_auth - harness_ns));
	switch_core_destroy(s);
	return sink ? 0 : 1;
}
