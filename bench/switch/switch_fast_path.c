/*
 * The switch's whole fast path on DPDK, measured in cycles: a real switch
 * worker (switch_core's switch_worker_poll) over the DPDK datagram port on a
 * ring-backed ethdev pair. The benchmark plays the wire: it puts cardholder
 * 1100s on the ring, takes the switch's 1100s to the bank off it, answers each
 * with a bank 1110, and takes the switch's 1110s to the cardholder, checking
 * every one. Only the switch's polls are timed (rte_rdtsc around
 * switch_worker_poll); building and checking the wire side is not.
 *
 * With --port-only the switch is replaced by an echo worker (rx_burst, then
 * tx_burst of the same datagrams back to their sender): what the DPDK port
 * alone costs per datagram in and out, the floor under the switch's figure.
 *
 * Every link is keyed (a throwaway key file): the cardholder and the bank sign
 * their messages (outside the timed polls) and the cardholder checks the MAC of
 * every 1110; the switch checks and writes MACs inside them. --no-mac runs the
 * links without MACs (iso_mac.allow_unprotected), for comparison.
 *
 *   switch_fast_path [--messages N] [--burst B] [--port-only] [--no-mac]
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "card_population.h"
#include "dpdk_frames.h"
#include "dpdk_port.h"
#include "eal_runtime_dir.h"
#include "ecosystem_config.h"
#include "framing.h"
#include "iso8583.h"
#include "iso_mac.h"
#include "iso_mac_keys.h"
#include "iso_test_messages.h"
#include "one_bank_ecosystem.h"
#include "switch_core.h"
#include "switch_worker.h"

#define SWITCH_IP "198.18.0.1"
#define SWITCH_UDP 13601
#define BANK_IP "198.18.0.2"
#define BANK_UDP 13602
#define CARDHOLDER_IP "198.18.0.10"
#define CARDHOLDER_UDP 13610

struct wire {
	uint16_t port;
	struct rte_mempool *pool;
	struct pkt_mac switch_mac, bank_mac, cardholder_mac;
	uint32_t switch_ip, bank_ip, cardholder_ip;
};

static void die(const char *what)
{
	fprintf(stderr, "switch_fast_path: %s\n", what);
	exit(1);
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The keyed contexts of the wire's two ends; NULL with --no-mac. */
static struct iso_cmac *acquirer_mac, *bank_mac;

static struct iso_cmac *link_key(const char *key_file, const char *link)
{
	static struct iso_mac_link keys[8];
	size_t count;
	char err[256];
	if (!iso_mac_keyfile_read(key_file, keys, 8, &count, err, sizeof err))
		die(err);
	for (size_t i = 0; i < count; i++)
		if (strcmp(keys[i].name, link) == 0)
			return iso_cmac_new(keys[i].current.bytes, keys[i].current.length);
	die("no key for a link in the bench's key file");
	return NULL;
}

/* The switch's ecosystem: its bank is played by the benchmark, so nothing opens the LMDB paths. */
static void write_config(const char *path, const char *key_file)
{
	const struct one_bank_ecosystem e = {.switch_ip = SWITCH_IP, .bank_ip = BANK_IP, .switch_udp = SWITCH_UDP,
					     .bank_udp = BANK_UDP, .switch_http = 13691, .bank_http = 13690,
					     .lmdb_dir = "/tmp/iso-dpdk-bench-unused", .cards_per_bank = 1000,
					     .outcome_memory = 65536, .mac_key_file = key_file};
	if (!one_bank_ecosystem_write(path, &e))
		die("cannot write the config");
	if (key_file) {
		acquirer_mac = link_key(key_file, "acquirer:mastercard");
		bank_mac = link_key(key_file, "mastercard:big_bank");
	}
}

/* Puts one UDP datagram on the wire towards the switch. */
static struct rte_mbuf *wire_frame(struct wire *w, const struct pkt_mac *src_mac, uint32_t src_ip,
				   uint16_t src_port, const uint8_t *payload, size_t length)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	if (!m)
		die("wire mempool empty");
	uint8_t *frame = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(PKT_UDP_HEADERS + length));
	memcpy(frame + PKT_UDP_HEADERS, payload, length);
	struct pkt_udp_endpoints e = {.src_mac = *src_mac, .dst_mac = w->switch_mac, .src_ip = src_ip,
					.dst_ip = w->switch_ip, .src_port = htons(src_port), .dst_port = htons(SWITCH_UDP)};
	pkt_build_udp_headers(frame, &e, length, 1, false, false);
	return m;
}

static void wire_send(struct wire *w, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent = 0;
	for (int attempt = 0; attempt < 1000 && sent < n; attempt++)
		sent += rte_eth_tx_burst(w->port, 0, m + sent, n - sent);
	if (sent < n)
		die("the wire ring stayed full");
}

/* A framed cardholder 1100 whose key (STAN, RRN, terminal) is unique to i. */
static size_t authorization(uint64_t i, const struct population_card *card, uint8_t *out, size_t capacity)
{
	static struct iso_text_msg t;
	char stan[24], rrn[24], terminal[24];
	snprintf(stan, sizeof stan, "%06" PRIu64, i % 1000000);
	snprintf(rrn, sizeof rrn, "B%011" PRIu64, i);
	snprintf(terminal, sizeof terminal, "T%07" PRIu64, (i / 1000000) % 10000000);
	const struct iso_cardholder_1100 c = {.pan = card->pan, .expiry = card->expiry, .amount = "000000001000",
					      .stan = stan, .rrn = rrn, .terminal = terminal};
	iso_text_msg_cardholder_1100(&t, &c);
	size_t framed = iso_encode_framed_signed(&t.m, acquirer_mac, out, capacity);
	if (!framed)
		die("cannot encode the 1100");
	return framed;
}

/* The bank's framed 1110 to the switch's framed 1100 (approved). */
static size_t bank_answer(const uint8_t *request, size_t length, uint8_t *out, size_t capacity)
{
	struct iso_msg in;
	struct iso_error err;
	if (length < 2 || iso_decode(&iso_profile_ascii, request + 2, length - 2, &in, &err) != ISO_OK ||
	    in.mti != 1100)
		die("the switch sent the bank something that is not a 1100");
	static struct iso_msg answer;
	iso_approval_of(&in, &answer, "A00001");
	if (bank_mac && !(iso_mac_present(&in, request + 2, length - 2) && iso_cmac_check_frame(bank_mac, request + 2, length - 2)))
		die("the switch's 1100 to the bank has no valid MAC");
	size_t framed = iso_encode_framed_signed(&answer, bank_mac, out, capacity);
	if (!framed)
		die("cannot encode the 1110");
	return framed;
}

/* Takes the switch's frames off the wire; returns how many were UDP to `to_ip`. */
static unsigned wire_collect(struct wire *w, uint32_t to_ip, struct rte_mbuf **out, unsigned capacity)
{
	unsigned n = 0;
	struct rte_mbuf *m[32];
	uint16_t got;
	while (n < capacity && (got = rte_eth_rx_burst(w->port, 0, m, 32)) > 0) {
		for (uint16_t i = 0; i < got; i++) {
			struct pkt_parsed p;
			if (n < capacity &&
			    pkt_parse(rte_pktmbuf_mtod(m[i], uint8_t *), rte_pktmbuf_data_len(m[i]), false, false,
					&p) == PKT_UDP &&
			    p.udp.dst_ip == to_ip)
				out[n++] = m[i];
			else
				rte_pktmbuf_free(m[i]);
		}
	}
	return n;
}

static const uint8_t *udp_payload(struct rte_mbuf *m, size_t *length)
{
	struct pkt_parsed p;
	if (pkt_parse(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m), false, false, &p) != PKT_UDP)
		die("not a UDP frame");
	*length = p.udp.payload_length;
	return rte_pktmbuf_mtod(m, uint8_t *) + p.udp.payload_offset;
}

/*
 * The framed messages (2-byte header included) packed in the datagrams m[0..count),
 * which are freed; copied into store (capacity bytes). Returns how many, at most max.
 */
static unsigned wire_frames(struct rte_mbuf **m, unsigned count, uint8_t *store, size_t capacity,
			    const uint8_t **frames, size_t *lengths, unsigned max)
{
	unsigned n = 0;
	size_t used = 0;
	for (unsigned i = 0; i < count; i++) {
		size_t length;
		const uint8_t *payload = udp_payload(m[i], &length);
		size_t consumed;
		for (size_t at = 0; at < length; at += consumed) {
			const uint8_t *msg;
			size_t msg_len;
			if (frame_next(FRAME_HEADER_BINARY2, payload + at, length - at, ISO_MAX_MESSAGE, &msg, &msg_len,
				       &consumed) != FRAME_OK)
				die("the switch sent a datagram that is not whole frames");
			if (n == max || used + consumed > capacity)
				die("the switch sent more messages than the burst");
			memcpy(store + used, payload + at, consumed);
			frames[n] = store + used;
			lengths[n++] = consumed;
			used += consumed;
		}
		rte_pktmbuf_free(m[i]);
	}
	return n;
}


/*
 * Cycles of every burst, so that the median can be reported next to the mean: on a
 * shared machine a burst that was preempted costs a hundred times more, and the
 * median of bursts ignores those while the mean does not.
 */
struct burst_samples {
	uint64_t *cycles;
	size_t count, capacity;
};

static void samples_init(struct burst_samples *s, size_t capacity)
{
	s->cycles = calloc(capacity ? capacity : 1, sizeof *s->cycles);
	if (!s->cycles)
		die("out of memory");
	s->count = 0;
	s->capacity = capacity;
}

static void samples_add(struct burst_samples *s, uint64_t cycles)
{
	if (s->count < s->capacity)
		s->cycles[s->count++] = cycles;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double samples_median(struct burst_samples *s)
{
	if (s->count == 0)
		return 0;
	qsort(s->cycles, s->count, sizeof *s->cycles, compare_u64);
	return (double)s->cycles[s->count / 2];
}

/*
 * Polls the switch until it has sent `want` messages in all (1100s on to the bank,
 * answers back to cardholders); returns the cycles spent in its polls. Messages,
 * not datagrams: frames for one peer in a burst share a datagram.
 */
static uint64_t switch_cmacs; /* CMACs computed inside the switch's polls (this thread's count) */

static uint64_t run_switch(struct switch_worker *worker, uint64_t want)
{
	uint64_t cycles = 0;
	for (int polls = 0; polls < 1000; polls++) {
		uint64_t cmacs = iso_cmac_count();
		uint64_t start = rte_rdtsc();
		switch_worker_poll(worker, monotonic_ms());
		cycles += rte_rdtsc() - start;
		switch_cmacs += iso_cmac_count() - cmacs;
		rcu_quiescent_state();
		const struct switch_counters *c = &worker->counters;
		if (c->forwarded + c->approved + c->declined >= want)
			return cycles;
	}
	die("the switch did not forward every message");
	return 0;
}

static int start_wire(struct wire *w)
{
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof conf);
	if (rte_eth_dev_configure(w->port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(w->port, 0, 1024, SOCKET_ID_ANY, NULL, w->pool) != 0 ||
	    rte_eth_tx_queue_setup(w->port, 0, 1024, SOCKET_ID_ANY, NULL) != 0)
		return -1;
	return rte_eth_dev_start(w->port);
}

/* The port alone: each datagram received is sent back to its sender. */
static void run_port_echo(struct wire *w, struct dgram_port *port, uint64_t messages, unsigned burst)
{
	static uint8_t buffers[32][2048];
	struct udp_datagram d[32];
	static uint8_t payload[ISO_MAX_MESSAGE + 2];
	size_t length = 0;
	{
		struct population_card card = {.pan = "5105100000000009", .expiry = "3012"};
		length = authorization(0, &card, payload, sizeof payload);
	}
	uint64_t cycles = 0, echoed = 0;
	struct burst_samples samples;
	samples_init(&samples, messages / burst);
	for (uint64_t done = 0; done + burst <= messages; done += burst) {
		uint64_t burst_cycles = cycles;
		struct rte_mbuf *m[32];
		for (unsigned i = 0; i < burst; i++)
			m[i] = wire_frame(w, &w->cardholder_mac, w->cardholder_ip, CARDHOLDER_UDP, payload, length);
		wire_send(w, m, (uint16_t)burst);
		unsigned left = burst;
		for (int polls = 0; left > 0 && polls < 1000; polls++) {
			uint64_t start = rte_rdtsc();
			for (unsigned i = 0; i < burst; i++)
				d[i] = (struct udp_datagram){.data = buffers[i], .capacity = sizeof buffers[i]};
			int n = dgram_rx_burst(port, 0, d, (int)left);
			if (n > 0)
				dgram_tx_burst(port, 0, d, n);
			cycles += rte_rdtsc() - start;
			left -= (unsigned)(n > 0 ? n : 0);
		}
		if (left)
			die("the port did not receive every datagram");
		samples_add(&samples, cycles - burst_cycles);
		unsigned got = wire_collect(w, w->cardholder_ip, m, burst);
		if (got != burst)
			die("the port did not send every datagram back");
		for (unsigned i = 0; i < got; i++)
			rte_pktmbuf_free(m[i]);
		echoed += got;
	}
	double per = (double)cycles / (double)echoed;
	double median = samples_median(&samples) / burst;
	free(samples.cycles);
	printf("DPDK port alone: echo worker over a ring-backed ethdev pair (net_ring), burst %u, %zu-byte payloads\n",
	       burst, length);
	printf("  datagrams                   %" PRIu64 "\n", echoed);
	printf("  cycles per datagram         %.1f median burst, %.1f mean (rx_burst parse + copy out, tx_burst headers + checksums)\n",
	       median, per);
	printf("  datagrams/s per core        %.0f (median burst)\n", (double)rte_get_tsc_hz() / median);
	printf("RESULT port_cycles_per_datagram=%.1f mean=%.1f\n", median, per);
}

int main(int argc, char **argv)
{
	uint64_t messages = 1000000;
	unsigned burst = 32;
	bool port_only = false, macs = true;
	static const struct option options[] = {{"messages", required_argument, NULL, 'n'},
						{"burst", required_argument, NULL, 'b'},
						{"port-only", no_argument, NULL, 'p'},
						{"no-mac", no_argument, NULL, 'm'},
						{NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == 'n')
			messages = strtoull(optarg, NULL, 10);
		else if (c == 'b')
			burst = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'p')
			port_only = true;
		else if (c == 'm')
			macs = false;
		else
			die("usage: switch_fast_path [--messages N] [--burst B]");
	}
	if (burst == 0 || burst > 32 || messages < burst)
		die("--burst must be 1..32 and --messages at least one burst");

	char prefix[64];
	snprintf(prefix, sizeof prefix, "--file-prefix=iso-dpdk-bench-%ld", (long)getpid());
	char *eal[] = {"switch_fast_path", "--no-huge", "--no-pci", "-m", "512", "-l", "0", "--log-level",
		       "lib.eal:warning", prefix};
	if (rte_eal_init((int)(sizeof eal / sizeof eal[0]), eal) < 0)
		die("rte_eal_init failed");

	struct rte_ring *to_switch = rte_ring_create("to_switch", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_ring *from_switch = rte_ring_create("from_switch", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!to_switch || !from_switch)
		die("rings");
	int switch_ethdev = rte_eth_from_rings("switch", &to_switch, 1, &from_switch, 1, SOCKET_ID_ANY);
	int wire_ethdev = rte_eth_from_rings("wire", &from_switch, 1, &to_switch, 1, SOCKET_ID_ANY);
	if (switch_ethdev < 0 || wire_ethdev < 0)
		die("ring ethdevs");

	char config_path[] = "/tmp/iso-dpdk-bench-XXXXXX";
	int fd = mkstemp(config_path);
	if (fd < 0)
		die("mkstemp");
	close(fd);
	char key_path[] = "/tmp/iso-dpdk-bench-keys-XXXXXX";
	fd = mkstemp(key_path);
	if (fd < 0)
		die("mkstemp");
	close(fd);
	write_config(config_path, macs ? key_path : NULL);
	static struct ecosystem_config cfg;
	char err[256];
	if (!ecosystem_config_load(config_path, &cfg, err, sizeof err))
		die(err);

	static struct dgram_port port;
	if (dpdk_port_create(&port, 0, NULL, 1, SWITCH_IP, SWITCH_UDP, err, sizeof err) != 0)
		die(err);
	if (port_only) {
		unlink(config_path);
		unlink(key_path);
		struct wire w = {.port = (uint16_t)wire_ethdev};
		w.pool = rte_pktmbuf_pool_create("wire_pool", 8192, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		if (!w.pool || start_wire(&w) != 0)
			die("wire ethdev");
		dpdk_port_mac(&port, w.switch_mac.bytes);
		w.cardholder_mac = (struct pkt_mac){{0x02, 0, 0, 0, 0, 0x10}};
		inet_pton(AF_INET, SWITCH_IP, &w.switch_ip);
		inet_pton(AF_INET, CARDHOLDER_IP, &w.cardholder_ip);
		run_port_echo(&w, &port, messages, burst);
		port.ops->close(&port);
		eal_cleanup_and_remove_runtime_dir();
		return 0;
	}
	struct switch_core *core = switch_core_create(&cfg, config_path, "mastercard", &port, SWITCH_DEFAULT_PENDING, err,
						     sizeof err);
	unlink(key_path);
	if (!core)
		die(err);
	unlink(config_path);
	rcu_register_thread();

	struct wire w = {.port = (uint16_t)wire_ethdev};
	w.pool = rte_pktmbuf_pool_create("wire_pool", 8192, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (!w.pool || start_wire(&w) != 0)
		die("wire ethdev");
	dpdk_port_mac(&port, w.switch_mac.bytes);
	w.bank_mac = (struct pkt_mac){{0x02, 0, 0, 0, 0, 0x02}};
	w.cardholder_mac = (struct pkt_mac){{0x02, 0, 0, 0, 0, 0x10}};
	inet_pton(AF_INET, SWITCH_IP, &w.switch_ip);
	inet_pton(AF_INET, BANK_IP, &w.bank_ip);
	inet_pton(AF_INET, CARDHOLDER_IP, &w.cardholder_ip);

	/* The bank introduces itself with an ARP request, as a kernel would before its first answer. */
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(w.pool);
		uint8_t *frame = (uint8_t *)rte_pktmbuf_append(m, PKT_MIN_LENGTH);
		static const struct pkt_mac broadcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, zero = {{0}};
		pkt_build_arp(frame, PKT_ARP_REQUEST, &broadcast, &w.bank_mac, w.bank_ip, &zero, w.switch_ip);
		wire_send(&w, &m, 1);
		switch_worker_poll(core->workers[0], monotonic_ms());
		struct rte_mbuf *none[1];
		wire_collect(&w, 0, none, 0);
		if (dpdk_port_neighbour_count(&port) != 1)
			die("the switch did not learn the bank from its ARP request");
	}

	size_t card_count = population_bank_card_count(&cfg, &cfg.banks[0]);
	struct population_card *cards = calloc(card_count, sizeof *cards);
	if (!cards)
		die("out of memory");
	for (size_t k = 0; k < card_count; k++)
		population_bank_card(&cfg, &cfg.banks[0], k, &cards[k]);

	uint64_t cycles_request = 0, cycles_answer = 0, forwarded = 0, approved = 0;
	struct burst_samples request_samples, answer_samples;
	samples_init(&request_samples, messages / burst);
	samples_init(&answer_samples, messages / burst);
	uint64_t wall_start = monotonic_ms();
	static uint8_t payload[ISO_MAX_MESSAGE + 2];
	/* The frames of one leg, copied out of the datagrams that carried them. */
	static uint8_t frames_in[32 * (ISO_MAX_MESSAGE + 2)];
	const uint8_t *frame[32];
	size_t frame_length[32];
	for (uint64_t done = 0; done + burst <= messages; done += burst) {
		struct rte_mbuf *m[32];
		for (unsigned i = 0; i < burst; i++) {
			size_t n = authorization(done + i, &cards[(done + i) % card_count], payload, sizeof payload);
			m[i] = wire_frame(&w, &w.cardholder_mac, w.cardholder_ip, CARDHOLDER_UDP, payload, n);
		}
		wire_send(&w, m, (uint16_t)burst);
		uint64_t leg = run_switch(core->workers[0], forwarded + burst);
		cycles_request += leg;
		samples_add(&request_samples, leg);
		forwarded += burst;

		unsigned got = wire_collect(&w, w.bank_ip, m, burst);
		unsigned count = wire_frames(m, got, frames_in, sizeof frames_in, frame, frame_length, burst);
		if (count != burst)
			die("the bank did not get every 1100");
		for (unsigned i = 0; i < count; i++) {
			size_t n = bank_answer(frame[i], frame_length[i], payload, sizeof payload);
			m[i] = wire_frame(&w, &w.bank_mac, w.bank_ip, BANK_UDP, payload, n);
		}
		wire_send(&w, m, (uint16_t)burst);
		leg = run_switch(core->workers[0], forwarded + burst);
		cycles_answer += leg;
		samples_add(&answer_samples, leg);
		forwarded += burst;

		got = wire_collect(&w, w.cardholder_ip, m, burst);
		count = wire_frames(m, got, frames_in, sizeof frames_in, frame, frame_length, burst);
		if (count != burst)
			die("the cardholder did not get every 1110");
		for (unsigned i = 0; i < count; i++) {
			struct iso_msg out;
			struct iso_error e;
			if (iso_decode(&iso_profile_ascii, frame[i] + 2, frame_length[i] - 2, &out, &e) == ISO_OK &&
			    out.mti == 1110 && iso_field_equals(&out, 39, "000") &&
			    (!acquirer_mac || (iso_mac_present(&out, frame[i] + 2, frame_length[i] - 2) &&
					       iso_cmac_check_frame(acquirer_mac, frame[i] + 2, frame_length[i] - 2))))
				approved++;
		}
	}
	uint64_t wall_ms = monotonic_ms() - wall_start;
	uint64_t authorizations = forwarded / 2;
	double hz = (double)rte_get_tsc_hz();
	double mean_auth = (double)(cycles_request + cycles_answer) / (double)authorizations;
	double median_request = samples_median(&request_samples) / burst;
	double median_answer = samples_median(&answer_samples) / burst;
	double per_auth = median_request + median_answer;
	free(request_samples.cycles);
	free(answer_samples.cycles);
	struct switch_counters sc;
	struct switch_gauges g;
	switch_core_counters(core, &sc, &g);
	struct dpdk_port_stats ps;
	dpdk_port_stats(&port, -1, &ps);

	printf("switch fast path: 1 worker on the DPDK port over a ring-backed ethdev pair (net_ring), burst %u\n", burst);
	printf("  authorizations              %" PRIu64 " (approved end to end: %" PRIu64 ")\n", authorizations, approved);
	printf("  TSC                         %.0f MHz\n", hz / 1e6);
	printf("  cycles per 1100 leg         %.1f median burst, %.1f mean (cardholder 1100 in -> bank 1100 out)\n",
	       median_request, (double)cycles_request / (double)authorizations);
	printf("  cycles per 1110 leg         %.1f median burst, %.1f mean (bank 1110 in -> cardholder 1110 out)\n",
	       median_answer, (double)cycles_answer / (double)authorizations);
	printf("  cycles per authorization    %.1f median, %.1f mean\n", per_auth, mean_auth);
	printf("  cycles per message          %.1f median, %.1f mean (each one in and relayed out)\n", per_auth / 2,
	       mean_auth / 2);
	/* 2 with keys: the check of the MAC that came in and the new one over the relayed bytes. */
	printf("  CMACs per message           %.2f (inside the switch's polls)\n",
	       (double)switch_cmacs / (double)forwarded);
	printf("  authorizations/s per core   %.0f (median)\n", hz / per_auth);
	printf("  messages/s per core         %.0f (median; the switch packs a burst's frames for one peer into shared datagrams)\n",
	       2 * hz / per_auth);
	printf("  port drops                  rx bad %" PRIu64 ", tx dropped %" PRIu64 ", tx no mbuf %" PRIu64 "\n",
	       ps.rx_truncated + ps.rx_bad_ip_checksum + ps.rx_bad_udp_checksum + ps.rx_not_for_us,
	       ps.tx_dropped_full + ps.tx_unresolved, ps.tx_no_mbuf);
	printf("  wall time (incl. the wire side, untimed) %" PRIu64 " ms\n", wall_ms);
	/* The key keeps its name for run.sh and the recorded results; it has always been per message relayed. */
	printf("RESULT cycles_per_datagram=%.1f mean=%.1f authorizations_per_s_per_core=%.0f approved=%" PRIu64
	       "/%" PRIu64 "\n",
	       per_auth / 2, mean_auth / 2, hz / per_auth, approved, authorizations);

	rcu_unregister_thread();
	switch_core_destroy(core); /* closes the port */
	free(cards);
	eal_cleanup_and_remove_runtime_dir();
	return approved == authorizations ? 0 : 1;
}
