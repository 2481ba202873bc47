/*
 * The lockout of issue 20, against the real switch (and bank nodes, every link
 * MACed): max_inbound (256) filled with idle connections that only send
 * keep-alives, from four addresses (64 each, an address's share), and then a
 * new acquirer must still get in and be served. Before, it was turned away
 * until the idle links timed out (90 s, longer with keep-alives). Ports
 * 16640-16659.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ecosystem_harness.h"
#include "framing.h"
#include "iso8583.h"
#include "test_clock.h"
#include "test_mac_keys.h"

#define IDLE_LINKS 256
#define SOURCES 4

static struct eco_env env;
static int idle[IDLE_LINKS];
static int idle_count;

static void cleanup(void)
{
	for (int i = 0; i < idle_count; i++)
		close(idle[i]);
	eco_cleanup(&env);
}

static int connect_from(const char *source)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in from = {.sin_family = AF_INET};
	inet_pton(AF_INET, source, &from.sin_addr);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(env.switch_tcp)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	struct timeval tv = {.tv_sec = 2};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* A signed 1100 of big_bank's card 0 on fd; the action code of the answer, "" when none came. */
static void pay(int fd, unsigned stan, char action[4])
{
	struct population_card c;
	eco_card(&env, 0, 0, &c);
	char stan_text[8], rrn[16], term[16];
	snprintf(stan_text, sizeof(stan_text), "%06u", stan % 1000000u);
	snprintf(rrn, sizeof(rrn), "LOCK%08u", stan);
	snprintf(term, sizeof(term), "L%07u", stan);
	struct iso_msg m;
	iso_msg_init(&m, 1100);
	iso_set_str(&m, 2, c.pan);
	iso_set_str(&m, 3, "000000");
	iso_set_str(&m, 4, "000000000100");
	iso_set_str(&m, 7, "1125120000");
	iso_set_str(&m, 11, stan_text);
	iso_set_str(&m, 12, "261125120000");
	iso_set_str(&m, 14, c.expiry);
	iso_set_str(&m, 22, "100000000000");
	iso_set_str(&m, 24, "100");
	iso_set_str(&m, 32, "30000000003");
	iso_set_str(&m, 37, rrn);
	iso_set_str(&m, 41, term);
	iso_set_str(&m, 42, "MERCHANT0000001");
	iso_set_str(&m, 49, "978");
	uint8_t frame[1024], in[2048];
	size_t n = 0;
	action[0] = '\0';
	cr_assert_eq(iso_encode(&iso_profile_ascii, &m, frame + 2, sizeof(frame) - 2, &n, NULL), ISO_OK);
	frame_write_header(FRAME_HEADER_BINARY2, n, frame);
	char keys[400];
	snprintf(keys, sizeof(keys), "%s/iso_mac.keys", env.dir);
	n = test_mac_sign_framed(keys, "acquirer:mastercard", frame, n + 2, sizeof(frame));
	cr_assert(n > 0);
	if (send(fd, frame, n, MSG_NOSIGNAL) != (ssize_t)n)
		return;
	size_t have = 0;
	const uint8_t *msg;
	size_t msg_len, consumed;
	for (;;) {
		enum frame_status st = frame_next(FRAME_HEADER_BINARY2, in, have, ISO_MAX_MESSAGE, &msg, &msg_len, &consumed);
		if (st == FRAME_OK && msg_len > 0)
			break;
		if (st == FRAME_OK) { /* a keep-alive from the switch */
			memmove(in, in + consumed, have - consumed);
			have -= consumed;
			continue;
		}
		ssize_t got = recv(fd, in + have, sizeof(in) - have, 0);
		if (got <= 0)
			return; /* closed (turned away) or no answer */
		have += (size_t)got;
	}
	struct iso_msg a;
	if (iso_decode(&iso_profile_ascii, msg, msg_len, &a, NULL) == ISO_OK && a.mti == 1110)
		iso_field_text(&a, 39, action, 4);
}

Test(tcp_lockout, idle_keepalive_links_cannot_lock_a_new_acquirer_out, .fini = cleanup, .timeout = 180)
{
	struct rlimit fds;
	getrlimit(RLIMIT_NOFILE, &fds);
	if (fds.rlim_cur < IDLE_LINKS + 64) {
		fds.rlim_cur = fds.rlim_max < 4096 ? fds.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &fds);
	}
	struct eco_settings s = {.base_port = 16640, .keepalive_s = 30, .idle_timeout_s = 90, .cards_per_bank = 10,
				 .initial_balance = 100000, .tag = "lockout"};
	cr_assert(eco_prepare(&env, &s), "cannot prepare %s", env.dir);
	cr_assert(eco_start_bank(&env, 0) && eco_start_bank(&env, 1), "the banks did not start");
	cr_assert(eco_start_switch(&env, 2), "the switch did not start");

	/* The table (256) filled from four addresses, 64 each (an address's share), keep-alives only. */
	static const uint8_t keepalive[2];
	for (int i = 0; i < IDLE_LINKS; i++) {
		char source[16];
		snprintf(source, sizeof(source), "127.0.0.%d", 10 + i % SOURCES);
		int fd = connect_from(source);
		cr_assert_geq(fd, 0, "idle connection %d", i);
		idle[idle_count++] = fd;
		cr_assert_eq(send(fd, keepalive, 2, MSG_NOSIGNAL), 2);
	}
	cr_assert(eco_wait_switch_stat(&env, "tcp.keepalives_in", IDLE_LINKS, 20000), "keep-alives in: %lld",
		  eco_switch_stat(&env, "tcp.keepalives_in"));
	cr_assert_eq(eco_switch_stat(&env, "tcp.rejected_full") + eco_switch_stat(&env, "tcp.rejected_per_source"), 0);

	/* A new acquirer: turned away while every idle link is fresh, served once the idlest has gone
	 * 5 s without a message (keep-alives keep coming: they do not count). Bounded: 30 s. */
	int64_t deadline = test_now_ms() + 30000;
	char action[4] = "";
	for (unsigned attempt = 1; strcmp(action, "000") != 0 && test_now_ms() < deadline; attempt++) {
		for (int i = 0; i < idle_count; i++)
			send(idle[i], keepalive, 2, MSG_NOSIGNAL | MSG_DONTWAIT);
		int fd = connect_from("127.0.0.1");
		if (fd >= 0) {
			pay(fd, attempt, action);
			close(fd);
		}
		if (strcmp(action, "000") != 0)
			test_sleep_ms(500);
	}
	cr_assert_str_eq(action, "000", "the new acquirer never got in (rejected_full %lld, evicted_idle %lld)",
			 eco_switch_stat(&env, "tcp.rejected_full"), eco_switch_stat(&env, "tcp.evicted_idle"));
	cr_assert_geq(eco_switch_stat(&env, "tcp.evicted_idle"), 1);
	cr_assert_eq(eco_balance(&env, 0, 0), 100000 - 100);
}
