#include "e2e_support.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

bool e2e_prepare(struct e2e_env *e, const struct e2e_settings *s)
{
	memset(e, 0, sizeof(*e));
	e->switch_pid = e->bank_pid[0] = e->bank_pid[1] = -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/switch-e2e-XXXXXX");
	if (!mkdtemp(e->dir))
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
		"    reversal_max_attempts: %u\n"
		"    outcome_memory: %u\n"
		"loadgen:\n"
		"  cards_per_bank: %u\n"
		"  initial_balance: %llu\n",
		e->big_http, e->big_iso, e->dir, (unsigned long long)s->big_max_amount, e->lil_http, e->lil_iso, e->dir,
		e->switch_http, e->switch_iso, e->dir, s->bank_timeout_ms, s->reversal_retry_ms,
		s->reversal_max_attempts, s->outcome_memory, s->cards_per_bank,
		(unsigned long long)s->initial_balance);
	fclose(f);
	e->cfg = malloc(sizeof(*e->cfg));
	char err[256];
	if (!e->cfg || !ecosystem_config_load(e->config_path, e->cfg, err, sizeof(err))) {
		fprintf(stderr, "e2e config: %s\n", e->cfg ? err : "out of memory");
		return false;
	}
	return true;
}

static pid_t spawn(const char *log_path, char *const argv[])
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static bool wait_http(uint16_t port, pid_t pid, int timeout_ms)
{
	for (int64_t deadline = now_ms() + timeout_ms; now_ms() < deadline; sleep_ms(20)) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid)
			return false; /* it died */
		if (e2e_http(port, "GET", "/stats", NULL, NULL) == 200)
			return true;
	}
	return false;
}

bool e2e_start_switch(struct e2e_env *e, int workers)
{
	char path[512], workers_text[16];
	snprintf(path, sizeof(path), "%s/switch/switch", getenv("ISO_BUILD_DIR") ? getenv("ISO_BUILD_DIR") : ".");
	snprintf(workers_text, sizeof(workers_text), "%d", workers);
	char *argv[] = {path, "--config", e->config_path, "--network", "mastercard", "--workers", workers_text, NULL};
	e->switch_pid = spawn(e->switch_log, argv);
	if (e->switch_pid < 0 || !wait_http(e->switch_http, e->switch_pid, 15000)) {
		e->switch_pid = -1;
		return false;
	}
	return true;
}

bool e2e_start_bank(struct e2e_env *e, int bank)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/bank-node/bank-node", getenv("ISO_BUILD_DIR") ? getenv("ISO_BUILD_DIR") : ".");
	if (access(path, X_OK) != 0)
		return false;
	const char *name = bank == 0 ? "big_bank" : "lil_bank";
	/* Through a local buffer: gcc -O2 cannot tell e->dir from e->bank_log[bank] (-Wrestrict). */
	char log_path[sizeof(e->bank_log[bank])];
	snprintf(log_path, sizeof(log_path), "%s/%s.log", e->dir, name);
	memcpy(e->bank_log[bank], log_path, sizeof(log_path));
	char *argv[] = {path, "--config", e->config_path, "--bank", (char *)name, NULL};
	e->bank_pid[bank] = spawn(e->bank_log[bank], argv);
	if (e->bank_pid[bank] < 0 ||
	    !wait_http(bank == 0 ? e->big_http : e->lil_http, e->bank_pid[bank], 30000)) {
		e->bank_pid[bank] = -1;
		return false;
	}
	return true;
}

static int stop(pid_t *pid)
{
	if (*pid <= 0)
		return -1;
	kill(*pid, SIGTERM);
	int status = -1;
	for (int64_t deadline = now_ms() + 10000; now_ms() < deadline; sleep_ms(10)) {
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			*pid = -1;
			return status;
		}
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, &status, 0);
	*pid = -1;
	return status;
}

int e2e_stop_switch(struct e2e_env *e)
{
	return stop(&e->switch_pid);
}

static void dump(const char *title, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	fprintf(stderr, "---- %s (%s)\n", title, path);
	char line[512];
	int lines = 0;
	while (fgets(line, sizeof(line), f) && lines++ < 200)
		fputs(line, stderr);
	fclose(f);
}

void e2e_cleanup(struct e2e_env *e, bool failed)
{
	stop(&e->switch_pid);
	stop(&e->bank_pid[0]);
	stop(&e->bank_pid[1]);
	if (failed) {
		dump("switch log", e->switch_log);
		dump("big_bank log", e->bank_log[0]);
		dump("lil_bank log", e->bank_log[1]);
	}
	if (e->dir[0]) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", e->dir);
	}
	free(e->cfg);
	e->cfg = NULL;
}

void e2e_card(const struct e2e_env *e, int bank, size_t k, struct population_card *out)
{
	/* Each test bank has one membership (mastercard): card k is index k. */
	population_bank_card(e->cfg, &e->cfg->banks[bank], k, out);
}

struct body_buffer {
	char *data;
	size_t length;
};

static size_t collect(char *ptr, size_t size, size_t n, void *user)
{
	struct body_buffer *b = user;
	size_t add = size * n;
	char *grown = realloc(b->data, b->length + add + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->length, ptr, add);
	b->data = grown;
	b->length += add;
	b->data[b->length] = '\0';
	return add;
}

long e2e_http(uint16_t port, const char *method, const char *path, const char *body, json_t **out)
{
	if (out)
		*out = NULL;
	CURL *curl = curl_easy_init();
	if (!curl)
		return 0;
	char url[512];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	struct body_buffer b = {NULL, 0};
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	if (body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	long status = 0;
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (out && b.data)
		*out = json_loads(b.data, 0, NULL);
	free(b.data);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return status;
}

long long e2e_switch_stat(const struct e2e_env *e, const char *name)
{
	json_t *stats;
	if (e2e_http(e->switch_http, "GET", "/stats", NULL, &stats) != 200 || !stats) {
		json_decref(stats);
		return -1;
	}
	json_t *v = json_object_get(json_object_get(stats, "totals"), name);
	long long value = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
	json_decref(stats);
	return value;
}

long long e2e_wait_stat(const struct e2e_env *e, const char *name, long long want, int timeout_ms)
{
	long long v = -1;
	for (int64_t deadline = now_ms() + timeout_ms; now_ms() < deadline; sleep_ms(10)) {
		v = e2e_switch_stat(e, name);
		if (v >= want)
			break;
	}
	return v;
}

bool udp_peer_open(struct udp_peer *p, uint16_t port)
{
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return false;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bind(p->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(p->fd);
		p->fd = -1;
		return false;
	}
	socklen_t len = sizeof(p->local);
	getsockname(p->fd, (struct sockaddr *)&p->local, &len);
	return true;
}

void udp_peer_close(struct udp_peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

bool udp_peer_send(struct udp_peer *p, uint16_t port, const void *data, size_t length)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	return sendto(p->fd, data, length, 0, (struct sockaddr *)&a, sizeof(a)) == (ssize_t)length;
}

size_t udp_peer_receive(struct udp_peer *p, void *buf, size_t capacity, int timeout_ms, struct sockaddr_in *from)
{
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	socklen_t len = sizeof(*from);
	struct sockaddr_in ignored;
	ssize_t n = recvfrom(p->fd, buf, capacity, 0, (struct sockaddr *)(from ? from : &ignored), &len);
	return n > 0 ? (size_t)n : 0;
}
