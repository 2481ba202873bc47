#include "bank_process.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_pan_keys.h"
#include "test_log_file.h"
#include "test_mac_keys.h"
#include "test_ports.h"
#include "test_process.h"
#include "test_security.h"
#include "test_temp_dir.h"
#include "test_wait_http.h"

void bank_process_prepare(struct bank_process *b, const struct bank_process_config *c)
{
	memset(b, 0, sizeof(*b));
	/* Waits for the same test run from another build directory to give the ports back. */
	b->claimed_ports = test_ports_claim(c->http_port, c->port_count ? c->port_count : 2, 1, 45);
	if (b->claimed_ports < 0) {
		fprintf(stderr, "ports from %u still claimed by another test run after 45 s\n", c->http_port);
		abort();
	}
	if (!test_temp_dir_make(b->dir, sizeof(b->dir), "bank"))
		abort();
	snprintf(b->config_path, sizeof(b->config_path), "%s/ecosystem.yaml", b->dir);
	snprintf(b->lmdb_path, sizeof(b->lmdb_path), "%s/lmdb", b->dir);
	snprintf(b->log_path, sizeof(b->log_path), "%s/bank.log", b->dir);
	b->http_port = c->http_port;
	b->iso_port = c->iso_port;
	FILE *f = fopen(b->config_path, "w");
	if (!f || !test_pan_keys_config(f, b->dir))
		abort();
	fprintf(f,
		"banks:\n"
		"  - name: " TEST_BANK_NAME "\n"
		"    institution_id: \"10000000001\"\n"
		"    http: 127.0.0.1:%u\n"
		"    iso: 127.0.0.1:%u\n"
		"    lmdb_path: %s\n"
		"    lmdb_map_size: 268435456\n"
		"    durability: %s\n"
		"    batch_max: %u\n"
		"    fraud:\n"
		"      max_amount: %llu\n"
		"      max_approvals_per_minute: 0\n"
		"    networks:\n"
		"      - network: mastercard\n"
		"        bins: [\"51051000\"]\n"
		"networks:\n"
		"  - name: mastercard\n"
		"    major_industry_id: 5\n"
		"    http: 127.0.0.1:%u\n"
		"    iso: 127.0.0.1:%u\n"
		"loadgen:\n"
		"  cards_per_bank: %u\n"
		"  initial_balance: %llu\n"
		"  currency: \"978\"\n"
		"  acquirer_id: \"30000000003\"\n"
		TEST_MAC_UNPROTECTED_YAML, /* the tests play the network without signing; source checks still apply */
		c->http_port, c->iso_port, b->lmdb_path, c->durability ? c->durability : "sync",
		c->batch_max ? c->batch_max : 256, (unsigned long long)c->max_amount, c->http_port + 400u,
		c->iso_port + 400u, c->cards_per_bank ? c->cards_per_bank : 10,
		(unsigned long long)c->initial_balance);
	fclose(f);
	if (!test_security_append(b->config_path, NULL))
		abort();
	char err[512];
	if (!ecosystem_config_load(b->config_path, &b->cfg, err, sizeof(err))) {
		fprintf(stderr, "test config rejected: %s\n", err);
		abort();
	}
}

void bank_process_dump_log(const struct bank_process *b)
{
	test_log_dump("bank-node log", b->log_path, 0);
}

bool bank_process_start(struct bank_process *b, const char *const *extra_args)
{
	char binary[512];
	test_build_path(binary, sizeof(binary), "bank-node/bank-node");
	char http_port[8];
	snprintf(http_port, sizeof(http_port), "%u", b->http_port);
	const char *argv[32] = {binary, "--config", b->config_path, "--bank", TEST_BANK_NAME, "--http-port", http_port};
	int argc = 7;
	for (int i = 0; extra_args && extra_args[i] && argc < 31; i++)
		argv[argc++] = extra_args[i];
	argv[argc] = NULL;

	b->pid = test_process_spawn(argv, &(struct test_spawn){.log_path = b->log_path});
	if (b->pid < 0) {
		b->pid = 0;
		return false;
	}
	if (test_wait_http(b->http_port, "/stats", &b->pid, 20000))
		return true;
	bank_process_dump_log(b);
	return false;
}

int bank_process_kill(struct bank_process *b, int sig)
{
	/* Bounded: a node that ignores SIGTERM for 10 s gets SIGKILL. */
	return test_process_stop(&b->pid, sig, 10000);
}

void bank_process_cleanup(struct bank_process *b)
{
	if (b->pid > 0)
		bank_process_kill(b, SIGKILL);
	if (b->dir[0] && !test_temp_dir_remove(b->dir))
		fprintf(stderr, "could not remove %s\n", b->dir);
	if (b->claimed_ports > 0)
		test_ports_release(b->claimed_ports);
	b->claimed_ports = -1;
}

void bank_process_card(const struct bank_process *b, size_t k, struct population_card *out)
{
	population_bank_card(&b->cfg, &b->cfg.banks[0], k, out);
}

int bank_process_receive_answers(struct test_udp_peer *peer, struct test_answer *out, int capacity, int timeout_ms)
{
	uint8_t buf[65536];
	size_t n = test_udp_peer_receive(peer, buf, sizeof(buf), timeout_ms, NULL);
	return n > 0 ? test_parse_answers(buf, n, out, capacity) : 0;
}
