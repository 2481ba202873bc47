#include "lifecycle_env.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bank_process.h"
#include "iso_messages.h"

int64_t lc_now_ms(void)
{
	return test_now_ms();
}

bool lc_env_prepare(struct lc_env *e, uint16_t base, uint32_t production_ms)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/iso-lifecycle-XXXXXX");
	if (!mkdtemp(e->dir))
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
		"    reversal_max_attempts: 3\n"
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
	fclose(f);
	return true;
}

long lc_http(uint16_t port, const char *method, const char *path, const char *body, json_t **out)
{
	return test_http(port, method, path, body, out);
}

static pid_t spawn(const char *const *argv, const char *log)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static bool wait_ready(pid_t *pid, uint16_t http_port)
{
	for (int64_t deadline = lc_now_ms() + 20000; lc_now_ms() < deadline;) {
		int status;
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			*pid = 0;
			return false;
		}
		if (lc_http(http_port, "GET", "/stats", NULL, NULL) == 200)
			return true;
		usleep(50000);
	}
	return false;
}

static void binary(char *out, size_t size, const char *relative)
{
	const char *build = getenv("ISO_BUILD_DIR");
	snprintf(out, size, "%s/%s", build ? build : ".", relative);
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* True when the log, from offset on, has a line with text. */
static bool log_mentions(const char *log, long offset, const char *text)
{
	FILE *f = fopen(log, "r");
	if (!f)
		return false;
	fseek(f, offset, SEEK_SET);
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

/* Starts a program; a port still held by someone else on this shared box gets two more tries. */
static bool start_program(const char *const *argv, const char *log, pid_t *pid, uint16_t http_port)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		if (attempt > 0) {
			fprintf(stderr, "%s: port busy, trying again in 1 s\n", argv[0]);
			sleep(1);
		}
		long offset = file_size(log);
		*pid = spawn(argv, log);
		if (*pid > 0 && wait_ready(pid, http_port))
			return true;
		if (*pid != 0 || !log_mentions(log, offset, "in use"))
			return false;
	}
	return false;
}

bool lc_env_start_bank(struct lc_env *e)
{
	char path[512];
	binary(path, sizeof(path), "bank-node/bank-node");
	const char *argv[] = {path, "--config", e->config_path, "--bank", LC_BANK, NULL};
	return start_program(argv, e->bank_log, &e->bank_pid, e->bank_http);
}

bool lc_env_start_switch(struct lc_env *e)
{
	char path[512];
	binary(path, sizeof(path), "switch/switch");
	const char *argv[] = {path, "--config", e->config_path, "--network", "mastercard", NULL};
	return start_program(argv, e->switch_log, &e->switch_pid, e->mc_http);
}

static bool stop(pid_t *pid)
{
	if (*pid <= 0)
		return false;
	kill(*pid, SIGTERM);
	int status = 0;
	bool exited = false;
	for (int64_t deadline = lc_now_ms() + 10000; lc_now_ms() < deadline;) {
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			exited = true;
			break;
		}
		usleep(20000);
	}
	if (!exited) {
		kill(*pid, SIGKILL);
		waitpid(*pid, &status, 0);
	}
	*pid = 0;
	return exited && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool lc_env_stop_switch(struct lc_env *e)
{
	return stop(&e->switch_pid);
}

void lc_env_kill_switch(struct lc_env *e)
{
	if (e->switch_pid <= 0)
		return;
	kill(e->switch_pid, SIGKILL);
	waitpid(e->switch_pid, NULL, 0);
	e->switch_pid = 0;
}

bool lc_env_stop_bank(struct lc_env *e)
{
	return stop(&e->bank_pid);
}

static void dump(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[512];
	fprintf(stderr, "---- %s ----\n", path);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

void lc_env_cleanup(struct lc_env *e, bool failed)
{
	stop(&e->switch_pid);
	stop(&e->bank_pid);
	if (failed) {
		dump(e->bank_log);
		dump(e->switch_log);
	}
	if (e->dir[0]) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", e->dir);
	}
}

bool lc_create_account(struct lc_env *e, const char *uuid, long long balance)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"name\":\"lifecycle test\",\"balance\":%lld}", uuid, balance);
	return lc_http(e->bank_http, "POST", "/create-account", body, NULL) == 201;
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
	bool ok = lc_http(e->bank_http, "GET", path, NULL, &j) == 200;
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
	for (int64_t deadline = lc_now_ms() + timeout_ms;;) {
		if (lc_bank_card_state(e, pan, now, sizeof(now)) && strcmp(now, state) == 0)
			return true;
		if (lc_now_ms() >= deadline)
			return false;
		usleep(20000);
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
