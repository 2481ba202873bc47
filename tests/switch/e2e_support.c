#include "e2e_support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_pan_keys.h"
#include "test_log_file.h"
#include "test_mac_keys.h"
#include "test_ports.h"
#include "test_process.h"
#include "test_security.h"
#include "test_temp_dir.h"
#include "test_wait_http.h"

bool e2e_prepare(struct e2e_env *e, const struct e2e_settings *s)
{
	memset(e, 0, sizeof(*e));
	/* Waits for the same test run from another build directory to give the ports back. */
	e->claimed_ports = test_ports_claim(s->base_port, 6, 1, 60);
	if (e->claimed_ports < 0) {
		fprintf(stderr, "e2e ports from %u still claimed by another test run after 60 s\n", s->base_port);
		return false;
	}
	if (!test_temp_dir_make(e->dir, sizeof(e->dir), "switch"))
		return false;
	e->switch_iso = s->base_port;
	e->switch_http = (uint16_t)(s->base_port + 1);
	e->big_iso = (uint16_t)(s->base_port + 2);
	e->big_http = (uint16_t)(s->base_port + 3);
	e->lil_iso = (uint16_t)(s->base_port + 4);
	e->lil_http = (uint16_t)(s->base_port + 5);
	snprintf(e->config_path, sizeof(e->config_path), "%s/ecosystem.yaml", e->dir);
	snprintf(e->switch_log, sizeof(e->switch_log), "%s/switch.log", e->dir);
	FILE *f = fopen(e->config_path, "w");
	if (!f)
		return false;
	if (!test_pan_keys_config(f, e->dir)) {
		fclose(f);
		return false;
	}
	fprintf(f,
		"banks:\n"
		"  - name: big_bank\n"
		"    institution_id: \"10000000001\"\n"
		"    http: 127.0.0.1:%u\n"
		"    iso: 127.0.0.1:%u\n"
		"    lmdb_path: %s/big_bank\n"
		"    lmdb_map_size: 67108864\n"
		"    durability: async\n"
		"    fraud:\n"
		"      max_amount: %llu\n"
		"    networks:\n"
		"      - network: mastercard\n"
		"        bins: [\"51051000\"]\n"
		"  - name: lil_bank\n"
		"    institution_id: \"20000000002\"\n"
		"    http: 127.0.0.1:%u\n"
		"    iso: 127.0.0.1:%u\n"
		"    lmdb_path: %s/lil_bank\n"
		"    lmdb_map_size: 67108864\n"
		"    durability: async\n"
		"    networks:\n"
		"      - network: mastercard\n"
		"        bins: [\"51999100-51999199\"]\n"
		"networks:\n"
		"  - name: mastercard\n"
		"    major_industry_id: 5\n"
		"    http: 127.0.0.1:%u\n"
		"    iso: 127.0.0.1:%u\n"
		"    lmdb_path: %s/mastercard\n"
		"    dataplane: socket\n"
		"    bank_timeout_ms: %u\n"
		"    reversal_retry_ms: %u\n"
		"    reversal_retry_max_ms: %u\n"
		"    outcome_memory: %u\n"
		"loadgen:\n"
		"  cards_per_bank: %u\n"
		"  initial_balance: %llu\n",
		e->big_http, e->big_iso, e->dir, (unsigned long long)s->big_max_amount, e->lil_http, e->lil_iso, e->dir,
		e->switch_http, e->switch_iso, e->dir, s->bank_timeout_ms, s->reversal_retry_ms,
		s->reversal_retry_max_ms, s->outcome_memory, s->cards_per_bank,
		(unsigned long long)s->initial_balance);
	if (s->macs)
		test_mac_write_yaml(f, e->dir, s->mac_grace_s, false);
	else
		fputs(TEST_MAC_UNPROTECTED_YAML, f);
	fclose(f);
	if (s->macs && !test_mac_create_keys(e->config_path))
		return false;
	if (!test_security_append(e->config_path, NULL))
		return false;
	e->cfg = malloc(sizeof(*e->cfg));
	char err[256];
	if (!e->cfg || !ecosystem_config_load(e->config_path, e->cfg, err, sizeof(err))) {
		fprintf(stderr, "e2e config: %s\n", e->cfg ? err : "out of memory");
		return false;
	}
	return true;
}

bool e2e_start_switch(struct e2e_env *e, int workers)
{
	char path[512], workers_text[16];
	test_build_path(path, sizeof(path), "switch/switch");
	snprintf(workers_text, sizeof(workers_text), "%d", workers);
	const char *argv[] = {path, "--config", e->config_path, "--network", "mastercard", "--workers", workers_text, NULL};
	e->switch_pid = test_process_spawn(argv, &(struct test_spawn){.log_path = e->switch_log, .die_with_parent = true});
	if (e->switch_pid > 0 && test_wait_http(e->switch_http, "/stats", &e->switch_pid, 15000))
		return true;
	test_process_stop(&e->switch_pid, SIGKILL, 0);
	return false;
}

bool e2e_start_bank(struct e2e_env *e, int bank)
{
	char path[512];
	test_build_path(path, sizeof(path), "bank-node/bank-node");
	if (access(path, X_OK) != 0)
		return false;
	const char *name = bank == 0 ? "big_bank" : "lil_bank";
	/* Through a local buffer: gcc -O2 cannot tell e->dir from e->bank_log[bank] (-Wrestrict). */
	char log_path[sizeof(e->bank_log[bank])];
	snprintf(log_path, sizeof(log_path), "%s/%s.log", e->dir, name);
	memcpy(e->bank_log[bank], log_path, sizeof(log_path));
	const char *argv[] = {path, "--config", e->config_path, "--bank", name, NULL};
	e->bank_pid[bank] = test_process_spawn(argv, &(struct test_spawn){.log_path = e->bank_log[bank], .die_with_parent = true});
	uint16_t http = bank == 0 ? e->big_http : e->lil_http;
	if (e->bank_pid[bank] > 0 && test_wait_http(http, "/stats", &e->bank_pid[bank], 30000))
		return true;
	test_process_stop(&e->bank_pid[bank], SIGKILL, 0);
	return false;
}

/* Bounded: a program that ignores SIGTERM for 10 s gets SIGKILL. */
int e2e_stop_switch(struct e2e_env *e)
{
	return test_process_stop(&e->switch_pid, SIGTERM, 10000);
}

void e2e_cleanup(struct e2e_env *e, bool failed)
{
	e2e_stop_switch(e);
	test_process_stop(&e->bank_pid[0], SIGTERM, 10000);
	test_process_stop(&e->bank_pid[1], SIGTERM, 10000);
	if (failed) {
		test_log_dump("switch log", e->switch_log, 200);
		test_log_dump("big_bank log", e->bank_log[0], 200);
		test_log_dump("lil_bank log", e->bank_log[1], 200);
	}
	if (e->dir[0] && !test_temp_dir_remove(e->dir))
		fprintf(stderr, "could not remove %s\n", e->dir);
	free(e->cfg);
	e->cfg = NULL;
	if (e->claimed_ports > 0)
		test_ports_release(e->claimed_ports);
	e->claimed_ports = -1;
}

void e2e_card(const struct e2e_env *e, int bank, size_t k, struct population_card *out)
{
	/* Each test bank has one membership (mastercard): card k is index k. */
	population_bank_card(e->cfg, &e->cfg->banks[bank], k, out);
}

long long e2e_switch_stat(const struct e2e_env *e, const char *name)
{
	json_t *stats;
	if (test_http(e->switch_http, "GET", "/stats", NULL, &stats) != 200 || !stats) {
		json_decref(stats);
		return -1;
	}
	/* "name" is a counter of "totals"; "a.b.c" a path from the top ("saf.queued"). */
	json_t *v = NULL;
	if (strchr(name, '.')) {
		char path[128];
		snprintf(path, sizeof(path), "%s", name);
		v = stats;
		for (char *save = NULL, *part = strtok_r(path, ".", &save); part && v; part = strtok_r(NULL, ".", &save))
			v = json_object_get(v, part);
	} else {
		v = json_object_get(json_object_get(stats, "totals"), name);
	}
	long long value = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
	json_decref(stats);
	return value;
}

long long e2e_wait_stat(const struct e2e_env *e, const char *name, long long want, int timeout_ms)
{
	long long v = -1;
	for (int64_t deadline = test_now_ms() + timeout_ms; test_now_ms() < deadline; test_sleep_ms(10)) {
		v = e2e_switch_stat(e, name);
		if (v >= want)
			break;
	}
	return v;
}

void e2e_frame_reader_init(struct e2e_frame_reader *r, struct test_udp_peer *peer)
{
	r->peer = peer;
	r->length = r->at = 0;
}

size_t e2e_receive_frame(struct e2e_frame_reader *r, uint8_t *out, size_t capacity, int timeout_ms)
{
	if (r->at >= r->length) {
		r->length = test_udp_peer_receive(r->peer, r->datagram, sizeof r->datagram, timeout_ms, NULL);
		r->at = 0;
		if (r->length == 0)
			return 0;
	}
	size_t left = r->length - r->at;
	size_t take = left;
	if (left >= 2) {
		size_t framed = 2 + (((size_t)r->datagram[r->at] << 8) | r->datagram[r->at + 1]);
		if (framed <= left)
			take = framed;
	}
	if (take > capacity)
		take = capacity;
	memcpy(out, r->datagram + r->at, take);
	r->at += take;
	return take;
}

size_t e2e_receive_frame_from(struct test_udp_peer *peer, uint8_t *out, size_t capacity, int timeout_ms)
{
	static struct e2e_frame_reader readers[E2E_FRAME_READERS];
	static size_t used;
	struct e2e_frame_reader *r = NULL;
	for (size_t i = 0; i < used && !r; i++)
		if (readers[i].peer == peer)
			r = &readers[i];
	if (!r) {
		if (used == E2E_FRAME_READERS) {
			fprintf(stderr, "e2e_receive_frame_from: more than %d peers\n", E2E_FRAME_READERS);
			abort();
		}
		r = &readers[used++];
		e2e_frame_reader_init(r, peer);
	}
	return e2e_receive_frame(r, out, capacity, timeout_ms);
}
