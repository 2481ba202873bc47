#include "webhook_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODIES 64
#define REQUEST_MAX 16384

struct webhook_listener {
	int fd;
	SSL_CTX *tls; /* NULL: plain http */
	pthread_t thread;
	atomic_bool stop;
	atomic_int status;
	atomic_int delay_ms;
	atomic_int answered; /* connections finished (answer sent or given up) */
	char reply[256];
	pthread_mutex_t lock;
	int requests;
	int delivered;
	json_t *bodies[MAX_BODIES];
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One accepted connection, over TLS or not. */
struct conn {
	int fd;
	SSL *ssl;
};

static ssize_t conn_read(struct conn *c, char *buf, size_t n)
{
	if (!c->ssl)
		return recv(c->fd, buf, n, 0);
	int r = SSL_read(c->ssl, buf, (int)n);
	return r > 0 ? r : -1;
}

/* Reads one request (headers and Content-Length body) within 2 s; returns the body or NULL. */
static char *read_request(struct conn *c, size_t *body_len)
{
	int fd = c->fd;
	static const char end_of_headers[] = "\r\n\r\n";
	char *buf = calloc(1, REQUEST_MAX + 1);
	size_t have = 0;
	int64_t deadline = now_ms() + 2000;
	while (buf && have < REQUEST_MAX && now_ms() < deadline) {
		struct pollfd p = {fd, POLLIN, 0};
		if (!(c->ssl && SSL_pending(c->ssl) > 0) && poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = conn_read(c, buf + have, REQUEST_MAX - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		char *body = strstr(buf, end_of_headers);
		if (!body)
			continue;
		body += 4;
		const char *cl = strcasestr(buf, "Content-Length:");
		size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0;
		if ((size_t)(buf + have - body) >= want) {
			*body_len = want;
			memmove(buf, body, want);
			buf[want] = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

static void serve(struct webhook_listener *l, int fd)
{
	struct conn c = {fd, NULL};
	if (l->tls) {
		/* A bounded handshake: the socket times out rather than hang the listener. */
		struct timeval tv = {2, 0};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		c.ssl = SSL_new(l->tls);
		if (!c.ssl || SSL_set_fd(c.ssl, fd) != 1 || SSL_accept(c.ssl) != 1) {
			SSL_free(c.ssl);
			return;
		}
	}
	size_t len = 0;
	char *body = read_request(&c, &len);
	int status = atomic_load(&l->status);
	pthread_mutex_lock(&l->lock);
	l->requests++;
	if (body && status >= 200 && status <= 299) {
		json_t *j = json_loadb(body, len, 0, NULL);
		if (l->delivered < MAX_BODIES)
			l->bodies[l->delivered] = j;
		else
			json_decref(j);
		l->delivered++;
	}
	pthread_mutex_unlock(&l->lock);
	free(body);
	for (int64_t until = now_ms() + atomic_load(&l->delay_ms); now_ms() < until && !atomic_load(&l->stop);)
		usleep(10000);
	char reply[256];
	pthread_mutex_lock(&l->lock);
	memcpy(reply, l->reply, sizeof(reply));
	pthread_mutex_unlock(&l->lock);
	char answer[512];
	int n = snprintf(answer, sizeof(answer),
			 "HTTP/1.1 %d Test\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 status, strlen(reply), reply);
	if (c.ssl) {
		SSL_write(c.ssl, answer, n);
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	} else if (send(fd, answer, (size_t)n, MSG_NOSIGNAL) < 0) {
		/* the client went away: nothing to do */
	}
}

static void *accept_loop(void *arg)
{
	struct webhook_listener *l = arg;
	while (!atomic_load(&l->stop)) {
		struct pollfd p = {l->fd, POLLIN, 0};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept(l->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve(l, c);
		close(c);
		atomic_fetch_add(&l->answered, 1);
	}
	return NULL;
}

struct webhook_listener *webhook_listener_start(uint16_t port)
{
	return webhook_listener_start_tls(port, NULL, NULL);
}

struct webhook_listener *webhook_listener_start_tls(uint16_t port, const char *cert_file, const char *key_file)
{
	struct webhook_listener *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	if (cert_file) {
		/* SSL_write uses write(): a client that gave up must not kill the test with SIGPIPE. */
		signal(SIGPIPE, SIG_IGN);
		l->tls = SSL_CTX_new(TLS_server_method());
		if (!l->tls || SSL_CTX_use_certificate_chain_file(l->tls, cert_file) != 1 ||
		    SSL_CTX_use_PrivateKey_file(l->tls, key_file, SSL_FILETYPE_PEM) != 1) {
			ERR_print_errors_fp(stderr);
			SSL_CTX_free(l->tls);
			free(l);
			return NULL;
		}
	}
	atomic_init(&l->status, 200);
	atomic_init(&l->delay_ms, 0);
	snprintf(l->reply, sizeof(l->reply), "{}");
	pthread_mutex_init(&l->lock, NULL);
	l->fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l->fd, 16) != 0 ||
	    pthread_create(&l->thread, NULL, accept_loop, l) != 0) {
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		return NULL;
	}
	return l;
}

void webhook_listener_stop(struct webhook_listener *l)
{
	if (!l)
		return;
	atomic_store(&l->stop, true);
	pthread_join(l->thread, NULL);
	close(l->fd);
	for (int i = 0; i < MAX_BODIES; i++)
		json_decref(l->bodies[i]);
	pthread_mutex_destroy(&l->lock);
	SSL_CTX_free(l->tls);
	free(l);
}

void webhook_listener_set_status(struct webhook_listener *l, int status)
{
	atomic_store(&l->status, status);
}

void webhook_listener_set_reply(struct webhook_listener *l, const char *json)
{
	pthread_mutex_lock(&l->lock);
	snprintf(l->reply, sizeof(l->reply), "%s", json);
	pthread_mutex_unlock(&l->lock);
}

void webhook_listener_set_delay_ms(struct webhook_listener *l, int delay_ms)
{
	atomic_store(&l->delay_ms, delay_ms);
}

int webhook_listener_requests(struct webhook_listener *l)
{
	pthread_mutex_lock(&l->lock);
	int n = l->requests;
	pthread_mutex_unlock(&l->lock);
	return n;
}

int webhook_listener_delivered(struct webhook_listener *l)
{
	pthread_mutex_lock(&l->lock);
	int n = l->delivered;
	pthread_mutex_unlock(&l->lock);
	return n;
}

json_t *webhook_listener_body(struct webhook_listener *l, int i)
{
	pthread_mutex_lock(&l->lock);
	json_t *j = i >= 0 && i < MAX_BODIES && i < l->delivered ? json_incref(l->bodies[i]) : NULL;
	pthread_mutex_unlock(&l->lock);
	return j;
}

int webhook_listener_wait_delivered(struct webhook_listener *l, int want, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int n;
	while ((n = webhook_listener_delivered(l)) < want && now_ms() < deadline)
		usleep(20000);
	return n;
}

int webhook_listener_wait_requests(struct webhook_listener *l, int want, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int n;
	while ((n = webhook_listener_requests(l)) < want && now_ms() < deadline)
		usleep(20000);
	return n;
}

bool webhook_listener_wait_answered(struct webhook_listener *l, int want, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	while (atomic_load(&l->answered) < want && now_ms() < deadline)
		usleep(20000);
	return atomic_load(&l->answered) >= want;
}
