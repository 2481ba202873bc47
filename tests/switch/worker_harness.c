#include "worker_harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "card_population.h"
#include "switch_worker.h"
#include "test_pan_keys.h"
#include "test_temp_dir.h"
#include "worker_test_config.h"

static const char yaml[] = WORKER_TEST_CONFIG_PREFIX
	"    bank_timeout_ms: 100\n"
	"    reversal_retry_ms: 50\n"
	"    reversal_retry_max_ms: 400\n"
	"    outcome_memory: 2048\n"
	"loadgen:\n"
	"  cards_per_bank: 5\n";

struct ecosystem_config cfg;
struct memory_port mem;
struct switch_core *sw;
struct sockaddr_in holder_addr, bank_addr;
uint64_t t0;
static struct dgram_port port;
static char saf_dir[256];

void worker_harness_start(uint16_t workers, const char *tag)
{
	char err[256];
	cr_assert(ecosystem_config_parse(yaml, sizeof(yaml) - 1, "test", &cfg, err, sizeof(err)), "%s", err);
	cr_assert(test_temp_dir_make(saf_dir, sizeof(saf_dir), tag));
	snprintf(cfg.networks[0].lmdb_path, sizeof(cfg.networks[0].lmdb_path), "%s", saf_dir);
	/* Throwaway PAN keys for the store-and-forward queue's seals. */
	if (!test_pan_keys_make(saf_dir, cfg.networks[0].pan_key_file, sizeof(cfg.networks[0].pan_key_file)))
		abort();
	memory_port_init(&port, &mem, workers);
	sw = switch_core_create(&cfg, NULL, "mastercard", &port, 64, err, sizeof(err));
	cr_assert_not_null(sw, "%s", err);
	rcu_register_thread();
	t0 = sw->workers[0]->now_ms;
	endpoint_to_sockaddr("127.0.0.1", 40000, &holder_addr);
	endpoint_to_sockaddr("127.0.0.1", 9302, &bank_addr);
}

void worker_harness_stop(void)
{
	rcu_unregister_thread();
	switch_core_destroy(sw);
	test_temp_dir_remove(saf_dir);
}

void poll_all(uint64_t now)
{
	for (int round = 0; round < 8; round++) {
		unsigned work = 0;
		/* The forwarder's turn first: it stores what the workers handed in last
		 * round and sends what is due; the workers then take its replies. */
		saf_forwarder_step(sw->saf, now);
		for (uint16_t i = 0; i < sw->worker_count; i++)
			work += switch_worker_poll(sw->workers[i], now);
		rcu_quiescent_state();
		if (!work)
			return;
	}
}

bool next_sent(struct sent *s)
{
	if (!memory_port_take_sent(&mem, &s->d))
		return false;
	cr_assert(tm_decode_framed(s->d.data, s->d.length, &s->m));
	return true;
}

void card_request(struct test_msg *t, size_t k, const char *stan)
{
	struct population_card c;
	population_bank_card(&cfg, &cfg.banks[0], k, &c);
	tm_authorization(t, c.pan, c.expiry, stan, "000000001000");
}

struct switch_counters totals(void)
{
	struct switch_counters c;
	struct switch_gauges g;
	switch_core_counters(sw, &c, &g);
	return c;
}
