#include "ecosystem_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_process.h"

#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS 15000

extern char **environ;

static const char *build_dir(void)
{
	const char *b = getenv("ISO_BUILD_DIR");
	return b ? b : ".";
}

static bool write_config(struct eco_env *e, const struct eco_settings *s)
{
	FILE *f = fopen(e->config_path, "w");
	if (!f)
		return false;
	const char *names[2] = {"big_bank", "lil_bank"};
	const char *bins[2] = {"51051000", "51999100"};
	fprintf(f, "banks:\n");
	for (int b = 0; b < 2; b++)
		fprintf(f,
			"  - name: %s\n    institution_id: \"%d000000000%d\"\n    http: 127.0.0.1:%u\n"
			"    iso: 127.0.0.1:%u\n    tcp: {listen: 127.0.0.1:%u}\n    link: %s\n"
			"    lmdb_path: %s/%s\n    lmdb_map_size: 67108864\n    durability: async\n"
			"    networks:\n      - network: mastercard\n        bins: [\"%s\"]\n",
			names[b], b + 1, b + 1, e->bank_http[b], e->bank_udp[b], e->bank_tcp[b],
			s->banks_over_tcp && !(b == 1 && s->lil_bank_over_udp) ? "tcp" : "udp", e->dir, names[b], bins[b]);
	fprintf(f,
		"networks:\n  - name: mastercard\n    major_industry_id: 5\n    http: 127.0.0.1:%u\n"
		"    iso: 127.0.0.1:%u\n    tcp:\n      listen: 127.0.0.1:%u\n      keepalive_s: %u\n"
		"      idle_timeout_s: %u\n    lmdb_path: %s/mastercard\n    bank_timeout_ms: %u\n"
		"    reversal_retry_ms: 200\n    reversal_max_attempts: 3\n",
		e->switch_http, e->switch_udp, e->switch_tcp, s->keepalive_s, s->idle_timeout_s, e->dir,
		s->bank_timeout_ms ? s->bank_timeout_ms : 1000);
	fprintf(f, "loadgen:\n  cards_per_bank: %u\n  initial_balance: %llu\n  link: %s\n",
		s->cards_per_bank ? s->cards_per_bank : 10, (unsigned long long)s->initial_balance,
		s->loadgen_tcp ? "tcp" : "udp");
	return fclose(f) == 0;
}

bool eco_prepare(struct eco_env *e, const struct eco_settings *s)
{
	memset(e, 0, sizeof(*e));
	e->switch_pid = e->bank_pid[0] = e->bank_pid[1] = -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/tcp-eco-XXXXXX");
	if (!mkdtemp(e->dir))
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

static pid_t spawn_logged(const char *const *argv, const char *log)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? pid : -1;
}

static bool alive(pid_t pid)
{
	return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

static bool http_up(uint16_t port, pid_t pid, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		json_t *j = eco_get_json(port, "/stats");
		if (j) {
			json_decref(j);
			return true;
		}
		if (!alive(pid))
			return false;
		sleep_ms(20);
	}
	return false;
}

bool eco_start_bank(struct eco_env *e, int bank)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/bank-node/bank-node", build_dir());
	const char *argv[] = {path, "--config", e->config_path, "--bank", e->cfg->banks[bank].name, NULL};
	e->bank_pid[bank] = spawn_logged(argv, e->bank_log[bank]);
	return e->bank_pid[bank] > 0 && http_up(e->bank_http[bank], e->bank_pid[bank], START_TIMEOUT_MS);
}

bool eco_start_switch(struct eco_env *e, int workers)
{
	char path[512], w[8];
	snprintf(path, sizeof(path), "%s/switch/switch", build_dir());
	snprintf(w, sizeof(w), "%d", workers);
	const char *argv[] = {path, "--config", e->config_path, "--network", "mastercard", "--workers", w, NULL};
	e->switch_pid = spawn_logged(argv, e->switch_log);
	return e->switch_pid > 0 && http_up(e->switch_http, e->switch_pid, START_TIMEOUT_MS);
}

static int stop(pid_t *pid)
{
	if (*pid <= 0)
		return -1;
	kill(*pid, SIGTERM);
	int status = 0;
	for (int waited = 0;; waited += 10) {
		pid_t r = waitpid(*pid, &status, WNOHANG);
		if (r == *pid)
			break;
		if (r < 0 || waited >= STOP_TIMEOUT_MS) {
			kill(*pid, SIGKILL);
			waitpid(*pid, &status, 0);
			*pid = -1;
			return -1;
		}
		sleep_ms(10);
	}
	*pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int eco_stop_bank(struct eco_env *e, int bank)
{
	return stop(&e->bank_pid[bank]);
}

int eco_stop_switch(struct eco_env *e)
{
	return stop(&e->switch_pid);
}

static void echo_log(const char *name, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	fprintf(stderr, "---- %s ----\n", name);
	char line[1024];
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

void eco_cleanup(struct eco_env *e)
{
	eco_stop_switch(e);
	eco_stop_bank(e, 0);
	eco_stop_bank(e, 1);
	echo_log("switch", e->switch_log);
	echo_log("big_bank", e->bank_log[0]);
	echo_log("lil_bank", e->bank_log[1]);
	free(e->cfg);
	e->cfg = NULL;
	if (e->dir[0]) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", e->dir);
	}
}

json_t *eco_get_json(uint16_t port, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return NULL;
	struct timeval tv = {.tv_sec = 3};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return NULL;
	}
	char req[256];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		return NULL;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	for (ssize_t got; buf && len < cap && (got = recv(fd, buf + len, cap - len, 0)) > 0;)
		len += (size_t)got;
	close(fd);
	if (!buf)
		return NULL;
	buf[len] = '\0';
	char *body = strstr(buf, "\r\n\r\n");
	json_t *j = body && strncmp(buf, "HTTP/1.1 200", 12) == 0 ? json_loads(body + 4, 0, NULL) : NULL;
	if (!j && body && strncmp(buf, "HTTP/1.0 200", 12) == 0)
		j = json_loads(body + 4, 0, NULL);
	free(buf);
	return j;
}

long long eco_switch_stat(struct eco_env *e, const char *dotted)
{
	json_t *root = eco_get_json(e->switch_http, "/stats");
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
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (eco_switch_stat(e, dotted) >= want)
			return true;
		sleep_ms(20);
	}
	return false;
}

long long eco_balance(struct eco_env *e, int bank, size_t index)
{
	char path[128];
	snprintf(path, sizeof(path), "/get-balance/uuid/%s-%zu", e->cfg->banks[bank].name, index);
	json_t *j = eco_get_json(e->bank_http[bank], path);
	long long b = j ? (long long)json_integer_value(json_object_get(j, "balance")) : -1;
	json_decref(j);
	return b;
}

bool eco_write_ledgers(struct eco_env *e, const char *path)
{
	json_t *all = json_object();
	bool ok = true;
	for (int b = 0; b < 2; b++) {
		json_t *l = eco_get_json(e->bank_http[b], "/ledger");
		ok = ok && l;
		if (l)
			json_object_set_new(all, e->cfg->banks[b].name, l);
	}
	ok = ok && json_dump_file(all, path, 0) == 0;
	json_decref(all);
	return ok;
}

static int run_and_wait(const char *const *argv, const char *log, int timeout_ms)
{
	pid_t pid = spawn_logged(argv, log);
	if (pid <= 0)
		return -1;
	int status;
	for (int waited = 0;; waited += 20) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0)
			return -1;
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		sleep_ms(20);
	}
}

int eco_run_loadgen(struct eco_env *e, const char *name, const char *const *extra, int timeout_ms)
{
	char path[512], report[400], log[420];
	snprintf(path, sizeof(path), "%s/cardholder-loadgen/cardholder-loadgen", build_dir());
	snprintf(report, sizeof(report), "%s/%s", e->dir, name);
	snprintf(log, sizeof(log), "%s/%s.log", e->dir, name);
	const char *argv[40] = {path, "--config", e->config_path, "--report-dir", report, "--no-plots", "--no-progress"};
	int n = 7;
	for (int i = 0; extra[i] && n < 39; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	int rc = run_and_wait(argv, log, timeout_ms);
	echo_log(name, log);
	return rc;
}

int eco_ledger_check(struct eco_env *e, const char *before, const char *after, const char *report_name)
{
	char script[512], summary[400], log[400];
	const char *src = getenv("ISO_SOURCE_DIR");
	snprintf(script, sizeof(script), "%s/cardholder-loadgen/ledger_check.py", src ? src : ".");
	snprintf(summary, sizeof(summary), "%s/%s/summary.json", e->dir, report_name);
	snprintf(log, sizeof(log), "%s/ledger_check.log", e->dir);
	const char *argv[] = {"/usr/bin/python3", script, "--before", before, "--after", after, "--summary", summary, NULL};
	int rc = run_and_wait(argv, log, 30000);
	echo_log("ledger_check", log);
	return rc;
}

void eco_card(const struct eco_env *e, int bank, size_t k, struct population_card *out)
{
	population_bank_card(e->cfg, &e->cfg->banks[bank], k, out);
}
