#include "bank_process.h"

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

int64_t test_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bank_process_prepare(struct bank_process *b, const struct bank_process_config *c)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "/tmp/iso-bank-test-XXXXXX");
	if (!mkdtemp(b->dir))
		abort();
	snprintf(b->config_path, sizeof(b->config_path), "%s/ecosystem.yaml", b->dir);
	snprintf(b->lmdb_path, sizeof(b->lmdb_path), "%s/lmdb", b->dir);
	snprintf(b->log_path, sizeof(b->log_path), "%s/bank.log", b->dir);
	b->http_port = c->http_port;
	b->iso_port = c->iso_port;
	FILE *f = fopen(b->config_path, "w");
	if (!f)
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
		"  acquirer_id: \"30000000003\"\n",
		c->http_port, c->iso_port, b->lmdb_path, c->durability ? c->durability : "sync",
		c->batch_max ? c->batch_max : 256, (unsigned long long)c->max_amount, c->http_port + 400u,
		c->iso_port + 400u, c->cards_per_bank ? c->cards_per_bank : 10,
		(unsigned long long)c->initial_balance);
	fclose(f);
	char err[512];
	if (!ecosystem_config_load(b->config_path, &b->cfg, err, sizeof(err))) {
		fprintf(stderr, "test config rejected: %s\n", err);
		abort();
	}
}

void bank_process_dump_log(const struct bank_process *b)
{
	FILE *f = fopen(b->log_path, "r");
	if (!f)
		return;
	char line[512];
	fprintf(stderr, "---- %s ----\n", b->log_path);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

bool bank_process_start(struct bank_process *b, const char *const *extra_args)
{
	const char *build = getenv("ISO_BUILD_DIR");
	char binary[512];
	snprintf(binary, sizeof(binary), "%s/bank-node/bank-node", build ? build : ".");
	char http_port[8];
	snprintf(http_port, sizeof(http_port), "%u", b->http_port);
	const char *argv[32] = {binary, "--config", b->config_path, "--bank", TEST_BANK_NAME, "--http-port", http_port};
	int argc = 7;
	for (int i = 0; extra_args && extra_args[i] && argc < 31; i++)
		argv[argc++] = extra_args[i];
	argv[argc] = NULL;

	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		int fd = open(b->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execv(binary, (char *const *)argv);
		_exit(127);
	}
	b->pid = pid;
	for (int64_t deadline = test_now_ms() + 20000; test_now_ms() < deadline;) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			b->pid = 0;
			bank_process_dump_log(b);
			return false;
		}
		if (test_http(b->http_port, "GET", "/stats", NULL, NULL) == 200)
			return true;
		usleep(50000);
	}
	bank_process_dump_log(b);
	return false;
}

int bank_process_kill(struct bank_process *b, int sig)
{
	if (b->pid <= 0)
		return -1;
	kill(b->pid, sig);
	int status = -1;
	/* Bounded: a node that ignores SIGTERM for 10 s gets SIGKILL. */
	for (int64_t deadline = test_now_ms() + 10000;;) {
		pid_t r = waitpid(b->pid, &status, WNOHANG);
		if (r == b->pid || (r < 0 && errno != EINTR))
			break;
		if (test_now_ms() > deadline) {
			kill(b->pid, SIGKILL);
			waitpid(b->pid, &status, 0);
			break;
		}
		usleep(10000);
	}
	b->pid = 0;
	return status;
}

void bank_process_cleanup(struct bank_process *b)
{
	if (b->pid > 0)
		bank_process_kill(b, SIGKILL);
	if (b->dir[0]) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", b->dir);
	}
}

void bank_process_card(const struct bank_process *b, size_t k, struct population_card *out)
{
	population_bank_card(&b->cfg, &b->cfg.banks[0], k, out);
}

struct buffer {
	char *data;
	size_t length;
};

static size_t collect(char *ptr, size_t size, size_t n, void *userdata)
{
	struct buffer *buf = userdata;
	size_t add = size * n;
	char *grown = realloc(buf->data, buf->length + add + 1);
	if (!grown)
		return 0;
	memcpy(grown + buf->length, ptr, add);
	buf->data = grown;
	buf->length += add;
	buf->data[buf->length] = '\0';
	return add;
}

long test_http(uint16_t port, const char *method, const char *path, const char *body, json_t **out)
{
	if (out)
		*out = NULL;
	CURL *curl = curl_easy_init();
	if (!curl)
		return 0;
	char url[512];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	struct buffer buf = {NULL, 0};
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	long status = 0;
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (out && buf.data)
		*out = json_loads(buf.data, 0, NULL);
	free(buf.data);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return status;
}

long long test_http_int(uint16_t port, const char *path, const char *key)
{
	json_t *j;
	long status = test_http(port, "GET", path, NULL, &j);
	long long v = -1;
	if (status == 200 && json_is_integer(json_object_get(j, key)))
		v = json_integer_value(json_object_get(j, key));
	json_decref(j);
	return v;
}

bool iso_client_open(struct iso_client *c, uint16_t bank_port)
{
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return false;
	int size = 4 << 20;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	struct sockaddr_in local = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(c->fd, (struct sockaddr *)&local, sizeof(local)) != 0)
		return false;
	memset(&c->bank, 0, sizeof(c->bank));
	c->bank.sin_family = AF_INET;
	c->bank.sin_port = htons(bank_port);
	c->bank.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return true;
}

void iso_client_close(struct iso_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

bool iso_client_send(struct iso_client *c, const uint8_t *data, size_t length)
{
	return sendto(c->fd, data, length, 0, (struct sockaddr *)&c->bank, sizeof(c->bank)) == (ssize_t)length;
}

int iso_client_receive(struct iso_client *c, struct test_answer *out, int capacity, int timeout_ms)
{
	uint8_t buf[65536];
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return 0;
	return test_parse_answers(buf, (size_t)n, out, capacity);
}
