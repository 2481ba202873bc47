#include "lifecycle_env.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bank_process.h"
#include "iso_messages.h"
#include "test_mac_keys.h"
#include "test_pan_keys.h"
#include "test_log_file.h"
#include "test_ports.h"
#include "test_process.h"
#include "test_security.h"
#include "test_temp_dir.h"
#include "test_udp_peer.h"
#include "test_wait_http.h"

bool lc_env_prepare(struct lc_env *e, uint16_t base, uint32_t production_ms)
{
	return lc_env_prepare_with(e, base, production_ms, "  auth_failures: {limit: 100000, window_s: 60}\n");
}

bool lc_env_prepare_with(struct lc_env *e, uint16_t base, uint32_t production_ms, const char *security_yaml)
{
	memset(e, 0, sizeof(*e));
	/* Waits for the same test run from another build directory to give the ports back. */
	e->claimed_ports = test_ports_claim(base, 7, 1, 60);
	if (e->claimed_ports < 0) {
		fprintf(stderr, "lifecycle ports from %u still claimed by another test run after 60 s\n", base);
		return false;
	}
	if (!test_temp_dir_make(e->dir, sizeof(e->dir), "lifecycle"))
		return false;
	snprintf(e->config_path, sizeof(e->config_path), "%s/ecosystem.yaml", e->dir);
	snprintf(e->bank_log, sizeof(e->bank_log), "%s/bank.log", e->dir);
	snprintf(e->switch_log, sizeof(e->switch_log), "%s/switch.log", e->dir);
	e->bank_http = base;
	e->bank_iso = (uint16_t)(base + 1);
	e->mc_http = (uint16_t)(base + 2);
	e->mc_iso = (uint16_t)(base + 3);
	e->visa_http = (uint16_t)(base + 4);
	e->webhook = (uint16_t)(base + 6);
	e->next_stan = 1;
	FILE *f = fopen(e->config_path, "w");
	if (!f)
		return false;
	if (!test_pan_keys_config(f, e->dir)) {
		fclose(f);
		return false;
	}
	fprintf(f,
		"banks:\n"
		"  - name: " LC_BANK "\n"
		"    institution_id: \"20000000002\"\n"
		"    http: 127.0.0.1:%u\n"
		"    iso: 127.0.0.1:%u\n"
		"    lmdb_path: %s/bank\n"
		"    lmdb_map_size: 67108864\n"
		"    durability: sync\n"
		"    batch_max: 64\n"
		"    fraud:\n"
		"      max_amount: 0\n"
		"      max_approvals_per_minute: 0\n"
		"    networks:\n"
		"      - network: mastercard\n"
		"        bins: [\"" LC_BIN "-51999199\"]\n"
		"      - network: visa\n"
		"        bins: [\"41111111\"]\n"
		"networks:\n"
		"  - name: mastercard\n"
		"    major_industry_id: 5\n"
		"    http: 127.0.0.1:%u\n"
		"    iso: 127.0.0.1:%u\n"
		"    lmdb_path: %s/mastercard\n"
		"    dataplane: socket\n"
		"    bank_timeout_ms: 1000\n"
		"    reversal_retry_ms: 200\n"
		"    reversal_retry_max_ms: 2000\n"
		"    outcome_memory: 4096\n"
		"    card_production_ms: %u\n"
		"  - name: visa\n"
		"    major_industry_id: 4\n"
		"    http: 127.0.0.1:%u\n"
		"    iso: 127.0.0.1:%u\n"
		"    lmdb_path: %s/visa\n"
		"    card_production_ms: %u\n"
		"loadgen:\n"
		"  cards_per_bank: 10\n"
		"  initial_balance: 100000\n"
		"  currency: \"978\"\n"
		"  acquirer_id: \"30000000003\"\n",
		e->bank_http, e->bank_iso, e->dir, e->mc_http, e->mc_iso, e->dir, production_ms, e->visa_http,
		(unsigned)(base + 5), e->dir, production_ms);
	test_mac_write_yaml(f, e->dir, 0, false);
	fclose(f);
	if (!test_mac_create_keys(e->config_path))
		return false;
	/* The test's webhook listener is plain http on loopback: allowed by name, as an operator would. */
	char extra[1024];
	snprintf(extra, sizeof(extra), "  webhook_allow_hosts: [\"127.0.0.1\"]\n%s", security_yaml ? security_yaml : "");
	return test_security_append(e->config_path, extra);
}

/* Starts a program; a port still held by someone else on this shared box gets two more tries. */
static bool start_program(const char *const *argv, const char *log, pid_t *pid, uint16_t http_port)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		if (attempt > 0) {
			fprintf(stderr, "%s: port busy, trying again in 1 s\n", argv[0]);
			sleep(1);
		}
		long offset = test_log_size(log);
		*pid = test_process_spawn(argv, &(struct test_spawn){.log_path = log});
		if (*pid > 0 && test_wait_http(http_port, "/stats", pid, 20000))
			return true;
		if (*pid > 0) {
			test_process_stop(pid, SIGKILL, 0); /* never ready: not left behind */
			return false;
		}
		*pid = 0;
		if (!test_log_mentions(log, offset, "in use"))
			return false;
	}
	return false;
}

bool lc_env_start_bank(struct lc_env *e)
{
	char path[512];
	test_build_path(path, sizeof(path), "bank-node/bank-node");
	const char *argv[] = {path, "--config", e->config_path, "--bank", LC_BANK, NULL};
	return start_program(argv, e->bank_log, &e->bank_pid, e->bank_http);
}

bool lc_env_start_switch(struct lc_env *e)
{
	char path[512];
	test_build_path(path, sizeof(path), "switch/switch");
	const char *argv[] = {path, "--config", e->config_path, "--network", "mastercard", NULL};
	return start_program(argv, e->switch_log, &e->switch_pid, e->mc_http);
}

/* SIGTERM, and SIGKILL after 10 s: true only for a clean exit within them. */
static bool stop(pid_t *pid)
{
	if (*pid <= 0)
		return false;
	return test_process_exited_cleanly(test_process_stop(pid, SIGTERM, 10000));
}

bool lc_env_stop_switch(struct lc_env *e)
{
	return stop(&e->switch_pid);
}

void lc_env_kill_switch(struct lc_env *e)
{
	test_process_stop(&e->switch_pid, SIGKILL, 10000);
}

bool lc_env_stop_bank(struct lc_env *e)
{
	return stop(&e->bank_pid);
}

void lc_env_cleanup(struct lc_env *e, bool failed)
{
	stop(&e->switch_pid);
	stop(&e->bank_pid);
	if (failed) {
		test_log_dump("bank-node log", e->bank_log, 0);
		test_log_dump("switch log", e->switch_log, 0);
	}
	if (e->dir[0] && !test_temp_dir_remove(e->dir))
		fprintf(stderr, "could not remove %s\n", e->dir);
	if (e->claimed_ports > 0)
		test_ports_release(e->claimed_ports);
	e->claimed_ports = -1;
}

bool lc_create_account(struct lc_env *e, const char *uuid, long long balance)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"name\":\"lifecycle test\",\"balance\":%lld}", uuid, balance);
	return test_http(e->bank_http, "POST", "/create-account", body, NULL) == 201;
}

long long lc_balance(struct lc_env *e, const char *uuid)
{
	char path[128];
	snprintf(path, sizeof(path), "/get-balance/uuid/%s", uuid);
	return test_http_int(e->bank_http, path, "balance");
}

bool lc_bank_card_state(struct lc_env *e, const char *pan, char *out, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/card/pan/%s", pan);
	json_t *j = NULL;
	bool ok = test_http(e->bank_http, "GET", path, NULL, &j) == 200;
	const char *state = json_string_value(json_object_get(j, "state"));
	ok = ok && state;
	if (ok)
		snprintf(out, size, "%s", state);
	json_decref(j);
	return ok;
}

bool lc_wait_bank_card_state(struct lc_env *e, const char *pan, const char *state, int timeout_ms)
{
	char now[32];
	for (int64_t deadline = test_now_ms() + timeout_ms;;) {
		if (lc_bank_card_state(e, pan, now, sizeof(now)) && strcmp(now, state) == 0)
			return true;
		if (test_now_ms() >= deadline)
			return false;
		test_sleep_ms(20);
	}
}

bool lc_pay(struct lc_env *e, const char *pan, const char *expiry, uint64_t amount, char action[4])
{
	action[0] = '\0';
	unsigned stan = e->next_stan++;
	char rrn[13];
	snprintf(rrn, sizeof(rrn), "LC%010u", stan);
	struct test_payment p = test_payment_default(pan, stan, amount);
	p.expiry = expiry;
	p.rrn = rrn;
	uint8_t frame[512];
	size_t n = test_build_1100(&p, frame, sizeof(frame));
	char keys[400];
	snprintf(keys, sizeof(keys), "%s/iso_mac.keys", e->dir);
	n = n ? test_mac_sign_framed(keys, "acquirer:mastercard", frame, n, sizeof(frame)) : 0;
	struct test_udp_peer c;
	if (n == 0 || !test_udp_peer_open(&c, 0))
		return false;
	bool sent = test_udp_peer_send(&c, e->mc_iso, frame, n);
	struct test_answer answers[4];
	int got = sent ? bank_process_receive_answers(&c, answers, 4, 3000) : 0;
	test_udp_peer_close(&c);
	if (got < 1)
		return false;
	memcpy(action, answers[0].action, 4);
	return true;
}
