#include "bank_node.h"

#include "pan_vault.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_security.h"
#include "bank_http.h"
#include "bank_io.h"
#include "bank_population.h"
#include "bank_tcp.h"
#include "bank_writer.h"
#include "card_population.h"
#include "http_api.h"
#include "http_client.h"
#include "store.h"
#include "udp_port.h"

#define WRITER_QUEUE_CAPACITY 16384
/* An I/O thread that finds the writer idle commits this many requests or fewer itself
 * (group_commit_run_inline): at a light load a hand-off costs more than the commit. */
#define BANK_INLINE_COMMIT_MAX 16
/* Server threads for the HTTP API: a card order waits on the network (up to two
 * calls of BANK_NETWORK_TIMEOUT_MS), and balances and /stats must not wait
 * behind it. Every bank handler is stateless or uses LMDB and atomics. */
#define BANK_HTTP_THREADS 4
#define DELAY_QUEUE_CAPACITY 4096
#define SOCKET_BUFFER_BYTES (4 << 20)

struct bank_node {
	struct ecosystem_config cfg;
	struct cfg_bank bank;
	struct store store;
	bool store_open;
	struct pan_vault *vault; /* the store's PAN lookups and seals (pan_protection.key_file) */
	struct udp_port port;
	bool port_open;
	struct bank_stats *stats;
	struct bank_writer writer;
	bool core_ready;
	struct reply_sender *writer_sender;
	struct reply_sender *io_sender;
	struct delay_queue *delays;
	struct group_commit *gc;
	struct bank_http http_ctx;
	struct http_api *http;
	struct agent_security security;
	struct bank_io *io;
	struct bank_tcp *tcp; /* NULL: the bank has no tcp.listen */
	struct bank_mac mac;  /* source checks and MAC keys of the bank's links */
	bool mac_open;
	struct iso_mac_view writer_mac;
	bool writer_mac_ready;
};

static void teardown(struct bank_node *n)
{
	/* Stop intake first, then let the writer answer what it holds, then the rest. */
	if (n->http)
		http_api_stop(n->http);
	agent_security_teardown(&n->security);
	bank_tcp_stop(n->tcp);
	group_commit_stop(n->gc);
	delay_queue_stop(n->delays);
	/* After the writer and the delay thread: their last answers to TCP peers go out first. */
	bank_tcp_close(n->tcp);
	if (n->core_ready)
		bank_core_free(&n->writer.core);
	if (n->port_open)
		udp_port_close(&n->port);
	if (n->store_open)
		store_close(&n->store);
	if (n->io)
		bank_io_mac_destroy(n->io);
	if (n->writer_mac_ready)
		iso_mac_view_destroy(&n->writer_mac);
	if (n->mac_open)
		bank_mac_close(&n->mac);
	pan_vault_free(n->vault);
	free(n->io);
	free(n->writer_sender);
	free(n->io_sender);
	free(n->stats);
}

static uint64_t default_seed(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec;
}

static int start(struct bank_node *n, const struct bank_options *o)
{
	char err[512];
	if (!ecosystem_config_load(o->config_path, &n->cfg, err, sizeof(err))) {
		fprintf(stderr, "bank-node: %s\n", err);
		return 2;
	}
	const struct cfg_bank *b = ecosystem_find_bank(&n->cfg, o->bank_name);
	if (!b) {
		fprintf(stderr, "bank-node: no bank '%s' in %s\n", o->bank_name, o->config_path);
		return 2;
	}
	n->bank = *b;
	if (!bank_options_apply(o, &n->bank, err, sizeof(err))) {
		fprintf(stderr, "bank-node: %s\n", err);
		return 2;
	}
	const struct cfg_bank *bank = &n->bank;
	if (!bank_mac_open(&n->mac, &n->cfg, bank, err, sizeof(err))) {
		fprintf(stderr, "bank-node: %s\n", err);
		return 2;
	}
	n->mac_open = true;
	if (!iso_mac_view_init(&n->writer_mac, &n->mac.keys)) {
		fprintf(stderr, "bank-node: out of memory for MAC contexts\n");
		return 1;
	}
	n->writer_mac_ready = true;

	n->vault = pan_vault_load(bank->pan_key_file, err, sizeof(err));
	if (!n->vault) { /* a key file is configuration, like the MAC keys above */
		fprintf(stderr, "bank-node: %s\n", err);
		return 2;
	}
	if (store_open(&n->store, bank->lmdb_path, bank->lmdb_map_size, bank->durability, n->vault, err, sizeof(err))) {
		fprintf(stderr, "bank-node: %s\n", err);
		return 1;
	}
	n->store_open = true;
	struct population_result pop;
	int rc = bank_population_create(&n->store, &n->cfg, bank, &pop);
	if (rc) {
		fprintf(stderr, "bank-node: creating the card population: %s\n", store_strerror(rc));
		return 1;
	}

	rc = udp_port_open(&n->port, bank->iso.host, bank->iso.port, SOCKET_BUFFER_BYTES);
	if (rc) {
		fprintf(stderr, "bank-node: UDP %s:%u: %s\n", bank->iso.host, bank->iso.port, strerror(-rc));
		return 1;
	}
	n->port_open = true;
	if (bank->tcp.enabled) {
		n->tcp = bank_tcp_open(&bank->tcp, -1, err, sizeof(err));
		if (!n->tcp) {
			fprintf(stderr, "bank-node: %s\n", err);
			return 1;
		}
	}

	n->stats = calloc(1, sizeof(*n->stats));
	n->writer_sender = malloc(sizeof(*n->writer_sender));
	n->io_sender = malloc(sizeof(*n->io_sender));
	n->io = calloc(1, sizeof(*n->io));
	if (!n->stats || !n->writer_sender || !n->io_sender || !n->io) {
		fprintf(stderr, "bank-node: out of memory\n");
		return 1;
	}
	reply_sender_init(n->writer_sender, &n->port, n->stats);
	reply_sender_init(n->io_sender, &n->port, n->stats);
	if (n->tcp)
		reply_sender_route_tcp(n->writer_sender, bank_tcp_port(n->tcp), BANK_TCP_QUEUE_WRITER);

	uint64_t seed = o->seed_set ? o->seed : default_seed();
	struct bank_rules rules = {
		.max_amount = bank->fraud.max_amount,
		.max_approvals_per_minute = bank->fraud.max_approvals_per_minute,
	};
	memcpy(rules.currency, n->cfg.loadgen.currency, sizeof(rules.currency));
	if (!bank_core_init(&n->writer.core, &n->store, &rules, pop.cards_total + 1024)) {
		fprintf(stderr, "bank-node: out of memory for velocity counters\n");
		return 1;
	}
	n->core_ready = true;
	bank_core_set_answer_budget(&n->writer.core, bank->answer_budget_ms);
	/* Approval codes continue from the clock, not from zero, across restarts. */
	n->writer.core.approval_seq = (uint32_t)(time(NULL) % 1000000);
	n->writer.stats = n->stats;
	n->writer.store_path = bank->lmdb_path;
	n->writer.profile = &iso_profile_ascii;
	n->writer.sender = n->writer_sender;
	n->writer.mac = &n->writer_mac;
	n->writer.delay_probability = bank->faults.delay_probability;
	n->writer.delay_ms = bank->faults.delay_ms;
	fault_rng_seed(&n->writer.rng, seed ^ 0x5bd1e995u);
	if (bank->faults.delay_probability > 0) {
		n->delays = delay_queue_start(&n->port, DELAY_QUEUE_CAPACITY, n->stats);
		if (!n->delays) {
			fprintf(stderr, "bank-node: cannot start the delay queue\n");
			return 1;
		}
		n->writer.delays = n->delays;
		if (n->tcp)
			delay_queue_route_tcp(n->delays, bank_tcp_port(n->tcp), BANK_TCP_QUEUE_DELAY);
	}

	struct group_commit_config gcc = {
		.item_size = sizeof(struct bank_request),
		.queue_capacity = WRITER_QUEUE_CAPACITY,
		.batch_max = bank->batch_max,
		.async_sync_ms = 100,
		.inline_max = BANK_INLINE_COMMIT_MAX,
	};
	n->gc = group_commit_start(&n->store, &gcc, &bank_writer_ops, &n->writer, err, sizeof(err));
	if (!n->gc) {
		fprintf(stderr, "bank-node: %s\n", err);
		return 1;
	}

	n->http_ctx.store = &n->store;
	n->http_ctx.stats = n->stats;
	n->http_ctx.writer = n->gc;
	n->http_ctx.config = &n->cfg;
	n->http_ctx.bank = &n->bank;
	n->http_ctx.network_timeout_ms = BANK_NETWORK_TIMEOUT_MS;
	n->http_ctx.mac = &n->mac;
	if (!agent_security_setup(&n->security, &n->cfg, bank->name, err, sizeof(err))) {
		fprintf(stderr, "bank-node: %s\n", err);
		return 1;
	}
	memcpy(n->http_ctx.currency, n->cfg.loadgen.currency, sizeof(n->http_ctx.currency));
	struct http_route routes[16];
	size_t route_count = bank_http_routes(&n->http_ctx, routes, 16);
	n->http = http_api_start_secure(bank->http.host, bank->http.port, routes, route_count, BANK_HTTP_THREADS,
					&n->security.api, err, sizeof(err));
	if (!n->http) {
		fprintf(stderr, "bank-node: HTTP %s:%u: %s\n", bank->http.host, bank->http.port, err);
		return 1;
	}

	n->io->port = &n->port;
	n->io->writer = n->gc;
	n->io->stats = n->stats;
	n->io->profile = &iso_profile_ascii;
	n->io->sender = n->io_sender;
	n->io->drop_probability = bank->faults.drop_probability;
	fault_rng_seed(&n->io->rng, seed);
	if (!bank_io_mac_init(n->io, &n->mac)) {
		fprintf(stderr, "bank-node: out of memory for MAC contexts\n");
		return 1;
	}
	if (n->tcp && bank_tcp_start(n->tcp, n->gc, n->stats, &n->mac, &iso_profile_ascii, bank->faults.drop_probability,
				     seed ^ 0x27d4eb2fu, err, sizeof(err)) != 0) {
		fprintf(stderr, "bank-node: %s\n", err);
		return 1;
	}

	printf("bank-node %s: iso udp %s:%u, %s %s:%u, lmdb %s (%s, batch_max %u), population %zu cards "
	       "(%zu accounts and %zu cards created)\n",
	       bank->name, bank->iso.host, ntohs(n->port.local.sin_port), agent_http_scheme(&n->cfg), bank->http.host,
	       bank->http.port,
	       bank->lmdb_path, durability_name(bank->durability), bank->batch_max, pop.cards_total,
	       pop.accounts_created, pop.cards_created);
	if (n->tcp) {
		const struct sockaddr_in *l = &bank_tcp_port(n->tcp)->local;
		char host[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &l->sin_addr, host, sizeof(host));
		printf("bank-node %s: iso tcp %s:%u\n", bank->name, host, ntohs(l->sin_port));
	}
	fflush(stdout);
	return 0;
}

int bank_node_run(const struct bank_options *o, volatile sig_atomic_t *stop)
{
	struct bank_node *n = calloc(1, sizeof(*n));
	if (!n) {
		fprintf(stderr, "bank-node: out of memory\n");
		return 1;
	}
	int status = start(n, o);
	if (status == 0)
		bank_io_run(n->io, stop);
	teardown(n);
	free(n);
	return status;
}
