#include "ecosystem_harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "test_clock.h"
#include "test_http.h"
#include "test_log_file.h"
#include "test_mac_keys.h"
#include "test_ports.h"
#include "test_process.h"
#include "test_security.h"
#include "test_temp_dir.h"
#include "test_pan_keys.h"
#include "test_wait_http.h"

#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS 15000
/* Another build directory's run of the same test may hold the block for a while. */
#define PORT_CLAIM_WAIT_S 120

static bool write_config(struct eco_env *e, const struct eco_settings *s)
{
	char keys[600];
	if (!test_pan_keys_make(e->dir, keys, sizeof(keys))) /* throwaway PAN protection keys */
		return false;
	FILE *f = fopen(e->config_path, "w");
	if (!f)
		return false;
	fprintf(f, "pan_protection:\n  key_file: %s\n", keys);
	const char *names[2] = {"big_bank", "lil_bank"};
	const char *bins[2] = {"51051000", "51999100"};
	fprintf(f, "banks:\n");
	for (int b = 0; b < 2; b++)
		fprintf(f,
			"  - name: %s\n    institution_id: \"%d000000000%d\"\n    http: 127.0.0.1:%u\n"
			"    iso: 127.0.0.1:%u\n    tcp: {listen: 127.0.0.1:%u}\n    link: %s\n"
			"    lmdb_path: %s/%s\n    lmdb_map_size: 67108864\n    durability: async\n"
			"    faults: {delay_probability: %g, delay_ms: %u}\n"
			"    networks:\n      - network: mastercard\n        bins: [\"%s\"]\n",
			names[b], b + 1, b + 1, e->bank_http[b], e->bank_udp[b], e->bank_tcp[b],
			s->banks_over_tcp && !(b == 1 && s->lil_bank_over_udp) ? "tcp" : "udp", e->dir, names[b],
			b == 0 ? s->big_bank_slow_share : 0.0, b == 0 && s->big_bank_slow_ms ? s->big_bank_slow_ms : 1,
			bins[b]);
	char shed_line[64] = "";
	if (s->shed_after_ms)
		snprintf(shed_line, sizeof(shed_line), "      shed_after_ms: %u\n", s->shed_after_ms);
	fprintf(f,
		"networks:\n  - name: mastercard\n    major_industry_id: 5\n    http: 127.0.0.1:%u\n"
		"    iso: 127.0.0.1:%u\n    tcp:\n      listen: 127.0.0.1:%u\n      keepalive_s: %u\n"
		"      idle_timeout_s: %u\n%s    lmdb_path: %s/mastercard\n    bank_timeout_ms: %u\n"
		"    reversal_retry_ms: 200\n    reversal_retry_max_ms: %u\n",
		e->switch_http, e->switch_udp, e->switch_tcp, s->keepalive_s, s->idle_timeout_s, shed_line, e->dir,
		s->bank_timeout_ms ? s->bank_timeout_ms : 1000,
		s->reversal_retry_max_ms ? s->reversal_retry_max_ms : 2000);
	fprintf(f, "loadgen:\n  cards_per_bank: %u\n  initial_balance: %llu\n  link: %s\n",
		s->cards_per_bank ? s->cards_per_bank : 10, (unsigned long long)s->initial_balance,
		s->loadgen_tcp ? "tcp" : "udp");
	test_mac_write_yaml(f, e->dir, s->mac_grace_s, s->acquirer_without_mac);
	if (fclose(f) != 0 || !test_mac_create_keys(e->config_path))
		return false;
	if (!test_security_append(e->config_path, NULL))
		return false;
	char mac_keys[400];
	snprintf(mac_keys, sizeof(mac_keys), "%s/iso_mac.keys", e->dir);
	return !s->acquirer_without_mac || test_mac_drop_link(mac_keys, "acquirer:mastercard");
}

bool eco_prepare(struct eco_env *e, const struct eco_settings *s)
{
	memset(e, 0, sizeof(*e));
	e->claimed_ports = test_ports_claim(s->base_port, ECO_PORT_BLOCK, 1, PORT_CLAIM_WAIT_S);
	if (e->claimed_ports < 0) {
		fprintf(stderr, "harness: ports %u-%u stayed claimed\n", s->base_port, s->base_port + ECO_PORT_BLOCK - 1);
		return false;
	}
	if (!test_temp_dir_make(e->dir, sizeof(e->dir), s->tag ? s->tag : "tcp-eco"))
		return false;
	uint16_t p = s->base_port;
	e->switch_udp = p;
	e->switch_tcp = (uint16_t)(p + 1);
	e->switch_http = (uint16_t)(p + 2);
	for (int b = 0; b < 2; b++) {
		e->bank_udp[b] = (uint16_t)(p + 3 + 3 * b);
		e->bank_tcp[b] = (uint16_t)(p + 4 + 3 * b);
		e->bank_http[b] = (uint16_t)(p + 5 + 3 * b);
	}
	snprintf(e->config_path, sizeof(e->config_path), "%s/ecosystem.yaml", e->dir);
	snprintf(e->switch_log, sizeof(e->switch_log), "%s/switch.log", e->dir);
	snprintf(e->bank_log[0], sizeof(e->bank_log[0]), "%s/big_bank.log", e->dir);
	snprintf(e->bank_log[1], sizeof(e->bank_log[1]), "%s/lil_bank.log", e->dir);
	if (!write_config(e, s))
		return false;
	e->cfg = malloc(sizeof(*e->cfg));
	char err[512];
	if (!e->cfg || !ecosystem_config_load(e->config_path, e->cfg, err, sizeof(err))) {
		fprintf(stderr, "harness config: %s\n", e->cfg ? err : "out of memory");
		return false;
	}
	return true;
}

/* A program of the ecosystem, its output appended to log (a restarted bank keeps one log). */
static pid_t spawn_logged(const char *const *argv, const char *log)
{
	const struct test_spawn how = {.log_path = log, .die_with_parent = true};
	return test_process_spawn(argv, &how);
}

bool eco_start_bank(struct eco_env *e, int bank)
{
	char path[512];
	test_build_path(path, sizeof(path), "bank-node/bank-node");
	const char *argv[] = {path, "--config", e->config_path, "--bank", e->cfg->banks[bank].name, NULL};
	e->bank_pid[bank] = spawn_logged(argv, e->bank_log[bank]);
	return e->bank_pid[bank] > 0 &&
	       test_wait_http(e->bank_http[bank], "/stats", &e->bank_pid[bank], START_TIMEOUT_MS);
}

bool eco_start_switch(struct eco_env *e, int workers)
{
	char path[512], w[8];
	test_build_path(path, sizeof(path), "switch/switch");
	snprintf(w, sizeof(w), "%d", workers);
	const char *argv[] = {path, "--config", e->config_path, "--network", "mastercard", "--workers", w, NULL};
	e->switch_pid = spawn_logged(argv, e->switch_log);
	return e->switch_pid > 0 && test_wait_http(e->switch_http, "/stats", &e->switch_pid, START_TIMEOUT_MS);
}

bool eco_start_all(struct eco_env *e, int workers)
{
	static const char *const banks[] = {"big_bank", "lil_bank"};
	for (int b = 0; b < 2; b++)
		if (!eco_start_bank(e, b)) {
			fprintf(stderr, "ecosystem: %s did not start (its log: %s)\n", banks[b], e->bank_log[b]);
			return false;
		}
	if (!eco_start_switch(e, workers)) {
		fprintf(stderr, "ecosystem: the switch did not start (its log: %s)\n", e->switch_log);
		return false;
	}
	return true;
}

/* The exit code of a wait status; -1 for a signal (SIGKILL after the grace included) or no status. */
static int exit_code(int status)
{
	return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int stop(pid_t *pid)
{
	if (*pid <= 0)
		return -1;
	return exit_code(test_process_stop(pid, SIGTERM, STOP_TIMEOUT_MS));
}

int eco_stop_bank(struct eco_env *e, int bank)
{
	return stop(&e->bank_pid[bank]);
}

int eco_stop_switch(struct eco_env *e)
{
	return stop(&e->switch_pid);
}

static void kill_now(pid_t *pid)
{
	if (*pid > 0)
		test_process_stop(pid, SIGKILL, STOP_TIMEOUT_MS);
	*pid = 0;
}

void eco_kill_bank(struct eco_env *e, int bank)
{
	kill_now(&e->bank_pid[bank]);
}

void eco_kill_switch(struct eco_env *e)
{
	kill_now(&e->switch_pid);
}

void eco_freeze_bank(struct eco_env *e, int bank, bool frozen)
{
	if (e->bank_pid[bank] > 0)
		kill(e->bank_pid[bank], frozen ? SIGSTOP : SIGCONT);
}

void eco_cleanup(struct eco_env *e)
{
	/* A frozen bank would never take its SIGTERM. */
	eco_freeze_bank(e, 0, false);
	eco_freeze_bank(e, 1, false);
	eco_stop_switch(e);
	eco_stop_bank(e, 0);
	eco_stop_bank(e, 1);
	if (e->dir[0]) {
		test_log_dump("switch", e->switch_log, 0);
		test_log_dump("big_bank", e->bank_log[0], 0);
		test_log_dump("lil_bank", e->bank_log[1], 0);
		if (!test_temp_dir_remove(e->dir))
			fprintf(stderr, "could not remove %s\n", e->dir);
		e->dir[0] = '\0';
	}
	free(e->cfg);
	e->cfg = NULL;
	if (e->claimed_ports > 0)
		test_ports_release(e->claimed_ports);
	e->claimed_ports = -1;
}

long long eco_switch_stat(struct eco_env *e, const char *dotted)
{
	json_t *root = test_http_get_json(e->switch_http, "/stats");
	if (!root)
		return -1;
	json_t *at = root;
	char key[128];
	snprintf(key, sizeof(key), "%s", dotted);
	for (char *save = NULL, *part = strtok_r(key, ".", &save); part && at; part = strtok_r(NULL, ".", &save))
		at = json_object_get(at, part);
	long long v = at && json_is_integer(at) ? (long long)json_integer_value(at) : -1;
	json_decref(root);
	return v;
}

bool eco_wait_switch_stat(struct eco_env *e, const char *dotted, long long want, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;
	while (test_now_ms() < deadline) {
		if (eco_switch_stat(e, dotted) >= want)
			return true;
		test_sleep_ms(20);
	}
	return eco_switch_stat(e, dotted) >= want;
}

bool eco_wait_switch_settled(struct eco_env *e, int timeout_ms)
{
	/* Every reversal advice goes through the store-and-forward queue: settled is drained. */
	return eco_wait_switch_drained(e, timeout_ms);
}

long long eco_balance(struct eco_env *e, int bank, size_t index)
{
	char path[128];
	snprintf(path, sizeof(path), "/get-balance/uuid/%s-%zu", e->cfg->banks[bank].name, index);
	json_t *j = test_http_get_json(e->bank_http[bank], path);
	long long b = j ? (long long)json_integer_value(json_object_get(j, "balance")) : -1;
	json_decref(j);
	return b;
}

bool eco_write_ledgers(struct eco_env *e, const char *path)
{
	json_t *all = json_object();
	bool ok = true;
	for (int b = 0; b < 2; b++) {
		json_t *l = test_http_get_json(e->bank_http[b], "/ledger");
		ok = ok && l;
		if (l)
			json_object_set_new(all, e->cfg->banks[b].name, l);
	}
	ok = ok && json_dump_file(all, path, 0) == 0;
	json_decref(all);
	return ok;
}

/* Runs argv to its end with its output in log; its exit code, -1 when killed after timeout_ms. */
static int run_and_wait(const char *const *argv, const char *log, int timeout_ms)
{
	pid_t pid = spawn_logged(argv, log);
	if (pid <= 0)
		return -1;
	int status = -1;
	if (!test_process_wait(&pid, timeout_ms, &status)) {
		test_process_stop(&pid, SIGKILL, 1000);
		return -1;
	}
	return exit_code(status);
}

static pid_t spawn_loadgen(struct eco_env *e, const char *name, const char *const *extra)
{
	char path[512], report[400], log[420];
	test_build_path(path, sizeof(path), "cardholder-loadgen/cardholder-loadgen");
	snprintf(report, sizeof(report), "%s/%s", e->dir, name);
	snprintf(log, sizeof(log), "%s/%s.log", e->dir, name);
	const char *argv[40] = {path, "--config", e->config_path, "--report-dir", report, "--no-plots", "--no-progress"};
	int n = 7;
	for (int i = 0; extra[i] && n < 39; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	return spawn_logged(argv, log);
}

pid_t eco_start_loadgen(struct eco_env *e, const char *name, const char *const *extra)
{
	pid_t pid = spawn_loadgen(e, name, extra);
	return pid > 0 ? pid : 0;
}

int eco_wait_loadgen(struct eco_env *e, const char *name, pid_t pid, int timeout_ms)
{
	char log[420];
	snprintf(log, sizeof(log), "%s/%s.log", e->dir, name);
	int status = -1;
	int rc = -1;
	if (pid > 0 && test_process_wait(&pid, timeout_ms, &status))
		rc = exit_code(status);
	else if (pid > 0)
		test_process_stop(&pid, SIGKILL, 1000);
	test_log_dump(name, log, 0);
	return rc;
}

int eco_run_loadgen(struct eco_env *e, const char *name, const char *const *extra, int timeout_ms)
{
	return eco_wait_loadgen(e, name, eco_start_loadgen(e, name, extra), timeout_ms);
}

static int ledger_check(struct eco_env *e, const char *before, const char *after, const char *report_name,
			bool exact)
{
	char script[512], summary[400], log[400], stats[400];
	const char *src = getenv("ISO_SOURCE_DIR");
	snprintf(script, sizeof(script), "%s/cardholder-loadgen/ledger_check.py", src ? src : ".");
	snprintf(summary, sizeof(summary), "%s/%s/summary.json", e->dir, report_name);
	snprintf(log, sizeof(log), "%s/ledger_check.log", e->dir);
	snprintf(stats, sizeof(stats), "%s/switch-stats.json", e->dir);
	const char *argv[12] = {"/usr/bin/python3", script, "--before", before, "--after", after, "--summary", summary};
	int n = 8;
	if (exact) {
		json_t *s = test_http_get_json(e->switch_http, "/stats");
		json_t *all = json_object();
		if (s)
			json_object_set_new(all, "mastercard", s);
		json_dump_file(all, stats, 0);
		json_decref(all);
		argv[n++] = "--switch-stats";
		argv[n++] = stats;
		argv[n++] = "--exact";
	}
	argv[n] = NULL;
	int rc = run_and_wait(argv, log, 30000);
	test_log_dump("ledger_check", log, 0);
	return rc;
}

int eco_ledger_check(struct eco_env *e, const char *before, const char *after, const char *report_name)
{
	return ledger_check(e, before, after, report_name, false);
}

int eco_ledger_check_exact(struct eco_env *e, const char *before, const char *after, const char *report_name)
{
	return ledger_check(e, before, after, report_name, true);
}

bool eco_wait_switch_drained(struct eco_env *e, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;
	for (int in_a_row = 0; test_now_ms() < deadline; test_sleep_ms(100)) {
		bool drained = eco_switch_stat(e, "gauges.pending") == 0 && eco_switch_stat(e, "saf.queued") == 0;
		in_a_row = drained ? in_a_row + 1 : 0;
		if (in_a_row == 2)
			return true;
	}
	return false;
}

void eco_card(const struct eco_env *e, int bank, size_t k, struct population_card *out)
{
	population_bank_card(e->cfg, &e->cfg->banks[bank], k, out);
}
